/** `kumo simulate`: the whole system on virtual time over a workload trace. */
export * from './trace.js';
export * from './trace-generator.js';
export * from './simulation.js';
export * from './report.js';
export { renderReportHtml, svgChart } from './report-html.js';
export { costLowerBound, overBaseSteps, type OverBaseStep } from './lower-bound.js';
export { percentile, StepIntegral } from './metrics.js';
