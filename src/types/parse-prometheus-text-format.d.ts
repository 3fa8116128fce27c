/** Types for parse-prometheus-text-format (the package ships none): the shape its parser returns. */
declare module 'parse-prometheus-text-format' {
  interface Family {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    /** Counters, gauges, untyped: `value`; histograms: `buckets`, `count`, `sum`; summaries: `quantiles`, … */
    metrics: { value?: string; labels?: Record<string, string>; [key: string]: unknown }[];
  }
  export default function parse(text: string): Family[];
}
