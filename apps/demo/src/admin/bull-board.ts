import type { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { DEFAULT_QUEUE_NAME } from '@nest-scale/task-queue';
import type { Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { ADMIN_AUTH_MESSAGE, isAdminRequest } from './admin-token.guard.js';

export const BULL_BOARD_PATH = '/admin/queues';

/** Mounts bull-board behind the admin token when the task queue runs on BullMQ; returns whether it did. */
export function mountBullBoard(app: INestApplication, adminToken: string): boolean {
  const queue = app.get<Queue | null>(getQueueToken(DEFAULT_QUEUE_NAME), { strict: false });
  if (!queue) return false;
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter });
  const guard = (req: Request, res: Response, next: NextFunction) => {
    if (isAdminRequest(req, adminToken)) return next();
    res
      .status(401)
      .setHeader('www-authenticate', 'Basic realm="nest-scale admin"')
      .json({ statusCode: 401, message: ADMIN_AUTH_MESSAGE });
  };
  app.use(BULL_BOARD_PATH, guard, serverAdapter.getRouter());
  return true;
}
