// The finding group's entity graph drawn with Cytoscape.js: findings and the entities they share
// (roles, access keys, instances, IPs, buckets…) as nodes, their links as edges.

import { useEffect, useRef } from 'preact/hooks';
import cytoscape from 'cytoscape';

/** A node of the group graph as the API returns it (fields beyond `id` are optional). */
export interface GraphNode {
  id: string;
  label?: string;
  kind?: string;
  [k: string]: unknown;
}
/** An edge of the group graph. */
export interface GraphEdge {
  source: string;
  target: string;
  label?: string;
  [k: string]: unknown;
}

const KIND_COLORS: Record<string, string> = {
  finding: '#d9534f',
  FINDING: '#d9534f',
};

export function EntityGraph(props: { nodes: GraphNode[]; edges: GraphEdge[]; onFinding?: (id: string) => void }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const ids = new Set(props.nodes.map((n) => String(n.id)));
    const cy = cytoscape({
      container: el.current!,
      elements: [
        ...props.nodes.map((n) => ({
          data: { id: String(n.id), label: String(n.label ?? n.id), kind: String(n.kind ?? '') },
        })),
        ...props.edges
          .filter((e) => ids.has(String(e.source)) && ids.has(String(e.target)))
          .map((e, i) => ({ data: { id: `e${i}`, source: String(e.source), target: String(e.target), label: String(e.label ?? '') } })),
      ],
      style: [
        {
          selector: 'node',
          style: {
            label: 'data(label)',
            'font-size': 9,
            'text-wrap': 'ellipsis',
            'text-max-width': '120px',
            'background-color': '#3f6fb0',
            width: 18,
            height: 18,
          },
        },
        { selector: 'node[kind = "finding"], node[kind = "FINDING"]', style: { 'background-color': KIND_COLORS.finding, shape: 'round-rectangle' } },
        { selector: 'edge', style: { width: 1.5, 'line-color': '#aab', 'curve-style': 'bezier' } },
      ],
      layout: { name: 'cose', animate: false, randomize: false },
    });
    cy.on('tap', 'node', (evt) => {
      const n = evt.target;
      if (String(n.data('kind')).toLowerCase() === 'finding') props.onFinding?.(String(n.id()).replace(/^finding:/, ''));
    });
    (el.current as HTMLDivElement & { __cy?: unknown }).__cy = cy;
    el.current!.dataset.nodes = String(cy.nodes().length);
    el.current!.dataset.edges = String(cy.edges().length);
    return () => cy.destroy();
  }, [props.nodes, props.edges]);
  return <div ref={el} class="graph" data-testid="group-graph" />;
}
