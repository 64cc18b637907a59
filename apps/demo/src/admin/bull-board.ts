import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getQueueToken } from '@nestjs/bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { DEFAULT_QUEUE_NAME } from '@nest-scale/task-queue';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { refuseAdminRequest } from './admin-token.guard.js';

export const BULL_BOARD_PATH = '/admin/queues';

/** Mounts bull-board behind the admin token when the task queue runs on BullMQ; resolves whether it did. */
export async function mountBullBoard(app: NestFastifyApplication, adminToken: string): Promise<boolean> {
  const queue = app.get<Queue | null>(getQueueToken(DEFAULT_QUEUE_NAME), { strict: false });
  if (!queue) return false;
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  await fastify.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        const refusal = refuseAdminRequest(request.raw, adminToken);
        if (refusal === undefined) return;
        if (refusal.status === 401) reply.header('www-authenticate', 'Basic realm="nest-scale admin"');
        await reply.code(refusal.status).send({ statusCode: refusal.status, message: refusal.message });
      });
      await scope.register(serverAdapter.registerPlugin());
    },
    { prefix: BULL_BOARD_PATH },
  );
  return true;
}
