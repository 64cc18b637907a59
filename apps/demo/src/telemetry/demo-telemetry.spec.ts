import { Test } from '@nestjs/testing';
import { metrics } from '@opentelemetry/api';
import { MultiLevelCache, MultiLevelCacheModule } from '@nest-scale/multi-level-cache';
import { DemoTelemetry } from './demo-telemetry.js';

describe('DemoTelemetry', () => {
  let telemetry: DemoTelemetry;

  afterEach(async () => {
    await telemetry.onApplicationShutdown();
  });

  it("serves the instruments of a library module created after start, under the views' names", async () => {
    telemetry = DemoTelemetry.start('spec-1');
    const moduleRef = await Test.createTestingModule({
      imports: [MultiLevelCacheModule.forRoot({ namespace: 'telemetry-spec', l2: false })],
    }).compile();
    await moduleRef.init();
    try {
      const cache = moduleRef.get(MultiLevelCache);
      for (let i = 0; i < 3; i++) await cache.wrap('k', async () => 'v');

      const text = await telemetry.scrape();
      expect(text).toMatch(/^nest_scale_cache_requests_total\{[^}]*cache_tier="l1",cache_outcome="hit"[^}]*\} 2$/m);
      expect(text).toMatch(/^nest_scale_cache_loader_duration_seconds_bucket\{[^}]*le="\+Inf"\} 1$/m);
      expect(text).toContain('target_info{service_name="nest-scale-demo",service_instance_id="spec-1"} 1');
    } finally {
      await moduleRef.close();
    }
  });

  it('answers a scrape without an observable callback that never settles, with everything else', async () => {
    telemetry = DemoTelemetry.start('spec-2');
    const meter = metrics.getMeter('demo-telemetry-spec');
    meter.createObservableGauge('spec.stuck').addCallback(() => new Promise<void>(() => {}));
    meter.createCounter('spec.requests').add(3);

    const text = await telemetry.scrape();
    expect(text).toMatch(/^spec_requests_total\{[^}]*\} 3$/m);
    expect(text).not.toMatch(/^spec_stuck/m);
  });

  it('refuses to start over a MeterProvider registered already, which would get the meters instead', async () => {
    telemetry = DemoTelemetry.start('spec-4a');
    expect(() => DemoTelemetry.start('spec-4b')).toThrow(
      expect.objectContaining({ name: 'DemoConfigError', message: expect.stringMatching(/already registered/) }),
    );
    metrics.getMeter('demo-telemetry-spec').createCounter('spec.still_served').add(1);
    expect(await telemetry.scrape()).toMatch(/^spec_still_served_total\{[^}]*\} 1$/m);
  });

  it('gives the global registration back on shutdown, so the next app in the process can register its own', async () => {
    const first = DemoTelemetry.start('spec-3a');
    await first.onApplicationShutdown();
    await expect(first.scrape()).rejects.toThrow(/shutdown/);

    telemetry = DemoTelemetry.start('spec-3b');
    metrics.getMeter('demo-telemetry-spec').createCounter('spec.after_restart').add(1);
    expect(await telemetry.scrape()).toMatch(/^spec_after_restart_total\{[^}]*\} 1$/m);
  });
});
