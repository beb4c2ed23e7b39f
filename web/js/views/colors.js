// Colour scales shared by the views: viridis (ordered in lightness, readable for colour-blind
// viewers), for the residual heatmap and the attention patterns alike.

const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

// [r, g, b] in 0..255, for canvases filled pixel by pixel.
export function viridisRgb(t) {
  const x = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  return STOPS[i].map((c, k) => Math.round(c + f * (STOPS[i + 1][k] - c)));
}

export function viridis(t) {
  const [r, g, b] = viridisRgb(t);
  return `rgb(${r}, ${g}, ${b})`;
}

// A grid of values 0..1 as an ImageData, one pixel per cell: one call per canvas instead of
// a fillRect per cell (a 1,024-token pattern has a million cells).
export function gridImage(grid, color = viridisRgb) {
  const rows = grid.length;
  const cols = Math.max(1, ...grid.map((row) => row.length));
  const image = new ImageData(cols, rows);
  grid.forEach((row, i) => row.forEach((v, j) => {
    const [r, g, b] = color(v);
    image.data.set([r, g, b, 255], 4 * (i * cols + j));
  }));
  return image;
}

// The scale as a CSS gradient left to right, for legends.
export const viridisRamp = () => `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(viridis).join(', ')})`;

// A share (0..1) as a wash of the accent colour, light enough that dark text stays readable.
export const probWash = (p) => `rgba(37, 87, 214, ${(0.06 + 0.5 * Math.min(Math.max(p, 0), 1)).toFixed(3)})`;
