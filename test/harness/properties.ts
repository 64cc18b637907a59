import fc from 'fast-check';

/**
 * Property and model-based tests run with a fixed seed so CI is repeatable; `npm run test:props -- --seed S` or
 * FC_SEED=S explores other seeds. fast-check prints the seed, path and shrunk counterexample of any failure, so a
 * failing case can be replayed with `fc.assert(prop, { seed, path })`.
 */
export const PROPERTY_SEED = process.env.FC_SEED === undefined ? 20_261_201 : Number(process.env.FC_SEED);

/** Runs for one property: `ciRuns` in `npm test`, or the count given to `npm run test:props -- --runs N`. */
export function propertyRuns(ciRuns: number): number {
  const override = Number(process.env.FC_NUM_RUNS);
  return Number.isInteger(override) && override > 0 ? override : ciRuns;
}

/** Parameters every `fc.assert` in the suite should take: fixed seed, the run count, a readable report. */
export function propertyParameters<T>(ciRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  return { seed: PROPERTY_SEED, numRuns: propertyRuns(ciRuns), verbose: 1, ...extra };
}
