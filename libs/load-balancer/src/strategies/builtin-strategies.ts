import type { Type } from '@nestjs/common';
import type { BuiltinStrategyName } from '../interfaces/load-balancer-options.interface.js';
import { ConsistentHashStrategy } from './consistent-hash.strategy.js';
import { LeastConnectionsStrategy } from './least-connections.strategy.js';
import type { LoadBalancingStrategy } from './load-balancing-strategy.js';
import { P2cEwmaStrategy } from './p2c-ewma.strategy.js';
import { RoundRobinStrategy } from './round-robin.strategy.js';
import { WeightedRandomStrategy } from './weighted-random.strategy.js';
import { WeightedRoundRobinStrategy } from './weighted-round-robin.strategy.js';

/** The class behind each built-in strategy name. @publicApi */
export const BUILTIN_STRATEGIES: Readonly<Record<BuiltinStrategyName, Type<LoadBalancingStrategy>>> = {
  'round-robin': RoundRobinStrategy,
  'weighted-round-robin': WeightedRoundRobinStrategy,
  'least-connections': LeastConnectionsStrategy,
  'weighted-random': WeightedRandomStrategy,
  'p2c-ewma': P2cEwmaStrategy,
  'consistent-hash': ConsistentHashStrategy,
};
