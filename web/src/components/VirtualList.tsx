// A virtualized list: only the rows in (and just around) the viewport are in the DOM, so 100,000
// ranked findings scroll as smoothly as 50.

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function VirtualList(props: {
  count: number;
  rowHeight: number;
  height: number;
  testid: string;
  row: (position: number) => ComponentChildren;
}) {
  const [top, setTop] = useState(0);
  const overscan = 6;
  const first = Math.max(0, Math.floor(top / props.rowHeight) - overscan);
  const last = Math.min(props.count, Math.ceil((top + props.height) / props.rowHeight) + overscan);
  const rows = [];
  for (let p = first; p < last; p++) {
    rows.push(
      <div class="vrow" key={p} style={{ top: `${p * props.rowHeight}px`, height: `${props.rowHeight}px` }}>
        {props.row(p)}
      </div>,
    );
  }
  return (
    <div
      class="vlist"
      data-testid={props.testid}
      data-count={props.count}
      style={{ height: `${props.height}px` }}
      onScroll={(e) => setTop((e.target as HTMLDivElement).scrollTop)}
    >
      <div class="vlist-inner" style={{ height: `${props.count * props.rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
