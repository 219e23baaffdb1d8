import { existsSync } from 'node:fs';
import { IsoflopError } from '../../src-shared/contract';

/**
 * HTML -> PDF with Chromium's print-to-PDF, headless through playwright-core (the desktop app uses
 * Electron's own webContents.printToPDF instead). Never downloads a browser: it uses the one installed.
 */

const candidates = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CHROMIUM_PATH && existsSync(env.CHROMIUM_PATH)) return env.CHROMIUM_PATH;
  return candidates.find((path) => existsSync(path)) ?? null;
}

/** Prints a report's HTML to PDF bytes: headless Chromium here, Electron's printToPDF in the desktop app. */
export type PdfPrinter = (html: string, paper: 'A4' | 'Letter', title: string) => Promise<Uint8Array>;

/** The page footer both printers use: the title and "page N of M". */
export function footerTemplate(title: string): string {
  return `<div style="font-size:8px;color:#777;width:100%;text-align:center;font-family:sans-serif">${title.replace(/&/g, '&amp;').replace(/</g, '&lt;')} · page <span class="pageNumber"></span> of <span class="totalPages"></span></div>`;
}

export const printPdf: PdfPrinter = async (html, paper, title) => {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new IsoflopError(
      'BACKEND_UNAVAILABLE',
      'Printing a PDF needs Chromium or Chrome: install one (e.g. apt-get install chromium) or set CHROMIUM_PATH.',
    );
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath,
    // Chromium's sandbox cannot start as root (containers, CI); everywhere else it stays on.
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  try {
    // A report is self-contained HTML and SVG: no scripts run and nothing is fetched while it prints.
    const page = await browser.newPage({ javaScriptEnabled: false, offline: true });
    await page.setContent(html, { waitUntil: 'load' });
    const footer = footerTemplate(title);
    const pdf = await page.pdf({
      format: paper,
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: '<span></span>',
      footerTemplate: footer,
      margin: { top: '18mm', bottom: '20mm', left: '16mm', right: '16mm' },
      outline: true,
      tagged: true,
    });
    return new Uint8Array(pdf);
  } finally {
    await browser.close();
  }
};
