/**
 * @csq/report: a self-contained HTML report with inline SVG charts for a csq run directory.
 * `renderReport` works anywhere; `writeReport` (Node) reads and writes the files.
 */

export {
  COLORS,
  formatCount,
  type ReportInput,
  renderReport,
  seriesLines,
  xValues,
} from './render.js';
export { type MetricsLine, parseMetricsJsonl, parseSummary, type RunSummary } from './run-data.js';
export { escapeXml, niceDomain, niceTicks } from './svg.js';
export { writeReport } from './write.js';
