// A user's application, compiled and run OUTSIDE the repository against the packed tarballs.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LoadBalancer, LoadBalancerModule } from '@nest-scale/load-balancer';
import { Cached, MultiLevelCache, MultiLevelCacheModule } from '@nest-scale/multi-level-cache';
import { TaskHandler, TaskQueue, TaskQueueModule } from '@nest-scale/task-queue';

@Injectable()
class Greeter {
  calls = 0;
  handled: string[] = [];

  @Cached({ ttl: 60_000 })
  async greet(name: string): Promise<string> {
    this.calls++;
    return `hello ${name}`;
  }

  @TaskHandler('record')
  async record(payload: { name: string }): Promise<void> {
    this.handled.push(payload.name);
  }
}

@Controller()
class ProbeController {
  constructor(
    private readonly greeter: Greeter,
    private readonly cache: MultiLevelCache,
    private readonly balancer: LoadBalancer,
    private readonly tasks: TaskQueue,
  ) {}

  @Get('probe')
  async probe() {
    const first = await this.greeter.greet('ada');
    const second = await this.greeter.greet('ada');
    await this.cache.set('when', new Date(0));
    const when = await this.cache.get<Date>('when');
    // Round robin starts at a random offset: two picks cover both nodes in some order.
    const picked = [this.balancer.pick().id, this.balancer.pick().id].toSorted();
    await this.tasks.enqueue('record', { name: 'ada' });
    for (let i = 0; i < 100 && this.greeter.handled.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    return {
      greeting: first === second ? first : null,
      loaderCalls: this.greeter.calls,
      dateRestored: when instanceof Date && when.getTime() === 0,
      picked,
      handled: this.greeter.handled,
    };
  }
}

@Module({
  imports: [
    MultiLevelCacheModule.forRoot({ namespace: 'consumer', ttl: 60_000, l1: { maxEntries: 100 }, l2: false }),
    LoadBalancerModule.forRoot({
      strategy: 'round-robin',
      nodes: [
        { id: 'a', host: '127.0.0.1', port: 1 },
        { id: 'b', host: '127.0.0.1', port: 2 },
      ],
    }),
    TaskQueueModule.forRoot({ driver: 'memory' }),
  ],
  controllers: [ProbeController],
  providers: [Greeter],
})
class ConsumerModule {}

const app = await NestFactory.create(ConsumerModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
const address = app.getHttpServer().address();
console.log(`LISTENING ${typeof address === 'object' && address ? address.port : ''}`);
