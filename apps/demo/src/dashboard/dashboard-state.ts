/** What the dashboard page renders; built from the three modules' own snapshots. */
export interface DashboardState {
  instance: string;
  mode: 'embedded' | 'distributed' | 'scaled-out';
  at: string;
  nodes: {
    id: string;
    address: string;
    state: string;
    healthScore: number;
    inFlight: number;
    latencyMs: number;
    errorRate: number;
    ejections: number;
  }[];
  cache: {
    l1Hits: number;
    l2Hits: number;
    misses: number;
    l1HitRatio: number;
    l2HitRatio: number;
    loaderCalls: number;
    errors: number;
    l2: string;
  };
  queue: { waiting: number; active: number; delayed: number; failed: number; completed: number };
}
