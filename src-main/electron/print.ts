import { BrowserWindow } from 'electron';
import { footerTemplate, type PdfPrinter } from '../export/pdf';

/**
 * Reports printed by Electron's own Chromium (webContents.printToPDF): a hidden, sandboxed window with
 * JavaScript off (a report is self-contained HTML and SVG, with no scripts) loads the page and prints it.
 */

const mm = (millimetres: number) => millimetres / 25.4; // printToPDF takes margins in inches

export const printPdfWithElectron: PdfPrinter = async (html, paper, title) => {
  const window = new BrowserWindow({
    show: false,
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false },
  });
  try {
    await window.loadURL(`data:text/html;charset=utf-8;base64,${Buffer.from(html, 'utf8').toString('base64')}`);
    const pdf = await window.webContents.printToPDF({
      pageSize: paper,
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: '<span></span>',
      footerTemplate: footerTemplate(title),
      margins: { top: mm(18), bottom: mm(20), left: mm(16), right: mm(16) },
      generateTaggedPDF: true,
      generateDocumentOutline: true,
    });
    return new Uint8Array(pdf);
  } finally {
    window.destroy();
  }
};
