import { existsSync } from 'node:fs';

const DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/local/share/fonts/dejavu'];

/**
 * The DejaVu Sans files (Debian: fonts-dejavu-core), which cover Swedish, Sami and Polish letters
 * that the PDF standard fonts garble: in `dir` when given (the gateway passes SVU_FONT_DIR), else in
 * Debian's folders.
 */
export function dejavuFonts(dir?: string): { regular: string; bold: string } {
  for (const candidate of dir === undefined ? DIRS : [dir]) {
    const regular = `${candidate}/DejaVuSans.ttf`;
    const bold = `${candidate}/DejaVuSans-Bold.ttf`;
    if (existsSync(regular) && existsSync(bold)) return { regular, bold };
  }
  throw new Error('DejaVu Sans not found: install fonts-dejavu-core, or set SVU_FONT_DIR to a folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf');
}
