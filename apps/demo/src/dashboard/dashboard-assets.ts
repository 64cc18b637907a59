import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const uplotDist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

/** The page's static assets, read once at start-up from the installed `uplot` package. */
export const DASHBOARD_ASSETS = new Map([
  [
    'uplot.iife.min.js',
    { contentType: 'text/javascript; charset=utf-8', body: readFileSync(join(uplotDist, 'uPlot.iife.min.js'), 'utf8') },
  ],
  [
    'uplot.min.css',
    { contentType: 'text/css; charset=utf-8', body: readFileSync(join(uplotDist, 'uPlot.min.css'), 'utf8') },
  ],
]);
