import { describeTaskQueueConformance } from './driver.conformance.js';

describeTaskQueueConformance('memory driver', () => ({ driver: 'memory' }));
