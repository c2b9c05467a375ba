/** A small SVG line chart for the soak results: time (s) on x, one or more series on y, an optional shaded band. */
export interface Series {
  name: string;
  points: [x: number, y: number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const W = 720;
const H = 300;
const M = { left: 64, right: 16, top: 32, bottom: 40 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function lineChart(options: {
  title: string;
  series: Series[];
  band?: [from: number, to: number];
  bandLabel?: string;
}): string {
  const all = options.series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(1, ...all.map(([x]) => x)));
  const yMax = niceMax(Math.max(0, ...all.map(([, y]) => y)));
  const x = (v: number) => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${escape(options.title)}</text>`,
  ];
  if (options.band) {
    const [from, to] = options.band;
    parts.push(
      `<rect x="${x(from)}" y="${M.top}" width="${Math.max(1, x(Math.min(to, xMax)) - x(from))}" ` +
        `height="${H - M.top - M.bottom}" fill="#fdd" opacity="0.6"/>`,
      `<text x="${x(from) + 4}" y="${M.top + 12}" fill="#a33">${escape(options.bandLabel ?? '')}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const yv = (yMax * i) / 5;
    const xv = (xMax * i) / 5;
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(yv)}" y2="${y(yv)}" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${y(yv) + 4}" text-anchor="end">${+yv.toPrecision(3)}</text>`,
      `<text x="${x(xv)}" y="${H - M.bottom + 16}" text-anchor="middle">${+xv.toPrecision(3)}</text>`,
    );
  }
  parts.push(
    `<text x="${W / 2}" y="${H - 6}" text-anchor="middle">seconds into the run</text>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#888"/>`,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#888"/>`,
  );
  options.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = series.points.map(
      ([px, py], n) => `${n ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`,
    );
    if (path.length)
      parts.push(`<path d="${path.join('')}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    parts.push(
      `<rect x="${W - M.right - 110}" y="${M.top + 4 + i * 16}" width="10" height="10" fill="${color}"/>`,
      `<text x="${W - M.right - 96}" y="${M.top + 13 + i * 16}">${escape(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
