import { TaskEnqueueError } from './task-enqueue.error.js';

describe('TaskEnqueueError', () => {
  it('defect 6: ends a cause that has its own full stop with one full stop, not ".."', () => {
    const error = new TaskEnqueueError(['send-mail'], new Error('Connection is closed.'));
    expect(error.name).toBe('TaskEnqueueError');
    expect(error.message).toMatch(/^Could not enqueue task "send-mail": Connection is closed\. The queue backend/);
    expect(error.message).not.toContain('..');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('says the queue is shut down, without blaming Redis, when enqueued after shutdown', () => {
    const error = new TaskEnqueueError(['a', 'b'], undefined, 'shut-down');
    expect(error.message).toMatch(/^Could not enqueue 2 tasks: the task queue is shut down/);
    expect(error.message).not.toMatch(/Redis/);
  });
});
