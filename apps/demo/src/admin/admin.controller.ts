import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { InjectLoadBalancer, InvalidLoadBalancerOptionsError, type LoadBalancer } from '@nest-scale/load-balancer';
import { TaskQueue } from '@nest-scale/task-queue';
import { CATALOG_UPSTREAM } from '../catalog/catalog.constants.js';
import { requireDependency } from '../errors/dependency-unavailable.error.js';
import { AddNodeDto } from './add-node.dto.js';
import { AdminTokenGuard } from './admin-token.guard.js';

@Controller('admin')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(
    private readonly tasks: TaskQueue,
    @InjectLoadBalancer(CATALOG_UPSTREAM) private readonly balancer: LoadBalancer,
  ) {}

  @Get('tasks/dead')
  listDead() {
    return requireDependency('task queue', () => this.tasks.listDead({ limit: 100 }));
  }

  @Post('tasks/dead/retry')
  @HttpCode(200)
  async retryDead() {
    return { retried: await requireDependency('task queue', () => this.tasks.retryAllDead()) };
  }

  @Get('nodes')
  nodes() {
    return this.balancer.nodes();
  }

  /** Stops sending new requests to the node, lets its in-flight ones finish, then removes it. */
  @Post('nodes/:id/drain')
  @HttpCode(200)
  async drain(@Param('id') id: string) {
    const removed = await this.balancer.removeNode(id, { drainTimeoutMs: 10_000 });
    if (!removed) throw new NotFoundException(`no upstream node "${id}"; GET /admin/nodes lists them`);
    return { drained: id, nodes: this.balancer.nodes().map((n) => n.id) };
  }

  @Post('nodes')
  @HttpCode(201)
  add(@Body() node: AddNodeDto) {
    const id = node.id ?? `${node.host}:${node.port}`;
    if (this.balancer.nodes().some((n) => n.id === id)) {
      throw new ConflictException(`upstream node "${id}" already exists; drain it first or choose another id`);
    }
    try {
      return this.balancer.addNode(node);
    } catch (error) {
      if (error instanceof InvalidLoadBalancerOptionsError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
