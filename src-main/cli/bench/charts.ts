import { Random } from '../../../src-shared/random';
import { downsampleMinMax, smoothEma } from '../../../src-shared/report/curves';
import { type ChartPoint, type ChartSeries, renderChart } from '../../../src-shared/report/svg';
import { findChromium } from '../../export/pdf';

/**
 * The run chart's path at a long run's size: `points` training-loss rows and one validation row in a
 * hundred. For each way of drawing it: building the SVG in JS (the app does this on every update and
 * zoom) and, where Chromium is installed, laying it out and painting it there. Medians of several redraws.
 * An empty chart is timed too: the painted time of that one is the frame rate's floor.
 */

export interface ChartBenchRow {
  what: string;
  /** points in the SVG after sampling */
  drawnPoints: number;
  svgKilobytes: number;
  buildMs: number;
  /** Chromium, null without it: parse and layout (synchronous), and until the frame after it is painted */
  layoutMs: number | null;
  paintedMs: number | null;
}

const maxPoints = 1200;

function curve(points: number): { train: ChartPoint[]; val: ChartPoint[] } {
  const random = new Random(4);
  const train: ChartPoint[] = [];
  const val: ChartPoint[] = [];
  for (let step = 1; step <= points; step++) {
    const trend = 1.7 + 3 / Math.sqrt(step / 50);
    train.push({ x: step * 4096, y: trend + 0.15 * random.normal() });
    if (step % 100 === 0) val.push({ x: step * 4096, y: trend + 0.05 + 0.01 * random.normal() });
  }
  return { train, val };
}

function chart(series: ChartSeries[], xRange: [number, number] | null = null): string {
  return renderChart({ title: 'Loss', xLabel: 'tokens', yLabel: 'loss', xLog: true, series, xRange });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export async function benchCharts(points: number, log: (line: string) => void): Promise<ChartBenchRow[]> {
  const { train, val } = curve(points);
  const last = (train[train.length - 1] as ChartPoint).x;
  const zoom: [number, number] = [last * 0.45, last * 0.5];
  const cases: Array<{ what: string; draw: () => { svg: string; drawn: number } }> = [
    { what: 'empty chart (frame floor)', draw: () => ({ svg: chart([]), drawn: 0 }) },
    {
      what: 'every point, raw',
      draw: () => {
        const series: ChartSeries[] = [
          { label: 'training loss', color: '#4f46e5', kind: 'line', points: train },
          { label: 'validation loss', color: '#e07b00', kind: 'line', points: val },
        ];
        return { svg: chart(series), drawn: train.length + val.length };
      },
    },
    {
      what: 'smoothed + min/max sampled',
      draw: () => {
        const raw = downsampleMinMax(train, maxPoints);
        const smooth = downsampleMinMax(smoothEma(train, 0.6), maxPoints);
        const shown = downsampleMinMax(val, maxPoints);
        const series: ChartSeries[] = [
          { label: '', color: '#4f46e5', kind: 'line', points: raw, opacity: 0.25 },
          { label: 'training loss', color: '#4f46e5', kind: 'line', points: smooth },
          { label: 'validation loss', color: '#e07b00', kind: 'line', points: shown },
        ];
        return { svg: chart(series), drawn: raw.length + smooth.length + shown.length };
      },
    },
    {
      what: 'zoomed to 5%, resampled',
      draw: () => {
        const raw = downsampleMinMax(train, maxPoints, zoom);
        const smooth = downsampleMinMax(smoothEma(train, 0.6), maxPoints, zoom);
        const shown = downsampleMinMax(val, maxPoints, zoom);
        const series: ChartSeries[] = [
          { label: '', color: '#4f46e5', kind: 'line', points: raw, opacity: 0.25 },
          { label: 'training loss', color: '#4f46e5', kind: 'line', points: smooth },
          { label: 'validation loss', color: '#e07b00', kind: 'line', points: shown },
        ];
        return { svg: chart(series, zoom), drawn: raw.length + smooth.length + shown.length };
      },
    },
  ];

  const executablePath = findChromium();
  const browser = executablePath
    ? await (await import('playwright-core')).chromium.launch({
        executablePath,
        args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      })
    : null;
  if (!browser) log('No Chromium found: printing the JS side only (set CHROMIUM_PATH to time drawing).');
  try {
    const page = browser ? await browser.newPage({ viewport: { width: 1100, height: 700 } }) : null;
    const rows: ChartBenchRow[] = [];
    for (const { what, draw } of cases) {
      log(`${what}...`);
      const builds: number[] = [];
      let drawn = { svg: '', drawn: 0 };
      for (let i = 0; i < 7; i++) {
        const start = performance.now();
        drawn = draw();
        builds.push(performance.now() - start);
      }
      let layoutMs: number | null = null;
      let paintedMs: number | null = null;
      if (page) {
        const times: Array<[number, number]> = [];
        for (let i = 0; i < 5; i++) {
          times.push(
            await page.evaluate(async (svg) => {
              // Runs in the page (this layer has no DOM types).
              const page = globalThis as unknown as {
                document: { body: { innerHTML: string; getBoundingClientRect(): unknown } };
                requestAnimationFrame(callback: () => void): void;
              };
              const frame = () => new Promise((resolve) => page.requestAnimationFrame(() => resolve(null)));
              page.document.body.innerHTML = '';
              await frame();
              const start = performance.now();
              page.document.body.innerHTML = `<div style="width:860px">${svg}</div>`;
              page.document.body.getBoundingClientRect();
              const laidOut = performance.now() - start;
              await frame();
              await frame();
              return [laidOut, performance.now() - start] as [number, number];
            }, drawn.svg),
          );
        }
        layoutMs = median(times.map(([layout]) => layout));
        paintedMs = median(times.map(([, painted]) => painted));
      }
      rows.push({
        what,
        drawnPoints: drawn.drawn,
        svgKilobytes: drawn.svg.length / 1000,
        buildMs: median(builds),
        layoutMs,
        paintedMs,
      });
    }
    return rows;
  } finally {
    await browser?.close();
  }
}
