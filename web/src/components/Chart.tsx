// A thin Preact wrapper around Apache ECharts (tree-shaken: bar charts on a canvas).

import { useEffect, useRef } from 'preact/hooks';
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** What a click on a chart element reports: the series and the category. */
export interface ChartClick {
  seriesName?: string;
  name: string;
  dataIndex: number;
}

/** An ECharts chart; `option` replaces the chart's option on change, `onClick` gets element clicks. */
export function Chart(props: {
  option: echarts.EChartsCoreOption;
  height: number;
  testid: string;
  onClick?: (c: ChartClick) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const click = useRef(props.onClick);
  click.current = props.onClick;

  useEffect(() => {
    const c = echarts.init(el.current!, undefined, { renderer: 'canvas' });
    chart.current = c;
    // Lets the browser tests find where a bar is drawn (convertToPixel) and click it for real.
    (el.current as HTMLDivElement & { __chart?: echarts.ECharts }).__chart = c;
    c.on('click', (p: unknown) => {
      const e = p as { seriesName?: string; name: string; dataIndex: number };
      click.current?.({ seriesName: e.seriesName, name: e.name, dataIndex: e.dataIndex });
    });
    const resize = () => c.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      c.dispose();
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(props.option, true);
  }, [props.option]);

  return <div ref={el} class="chart" data-testid={props.testid} style={{ height: `${props.height}px` }} />;
}
