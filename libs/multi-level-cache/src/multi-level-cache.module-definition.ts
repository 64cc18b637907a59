import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: MULTI_LEVEL_CACHE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MultiLevelCacheModuleOptions>({ moduleName: 'MultiLevelCache' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
