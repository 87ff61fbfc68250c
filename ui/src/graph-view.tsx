// The run's graph drawn with React Flow: nodes coloured by step status, edges by state (LIVE, DEAD,
// PENDING), the critical path outlined. Only what is in view is rendered, so 1,000 nodes stay smooth.
import { Background, Controls, Handle, MiniMap, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useEffect, useMemo, useState } from 'react';
import type { EdgeState, StepStatus } from './gql/graphql';
import { layoutGraph, nodeHeight, nodeWidth, type Positions } from './layout';
import type { Definition } from './run-data';

type StepNodeData = { label: string; type: string; status: StepStatus; critical: boolean; selected: boolean };

const StepNode = memo(function StepNode({ data }: NodeProps<Node<StepNodeData>>) {
  return (
    <div
      className={`graph-node status-${data.status}${data.critical ? ' critical' : ''}${data.selected ? ' selected' : ''}`}
      style={{ width: nodeWidth, height: nodeHeight }}
      title={`${data.label} (${data.type}): ${data.status}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <strong>{data.label}</strong>
      <span>{data.type} · {data.status}</span>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { step: StepNode };

const edgeColours: Record<EdgeState, string> = { LIVE: '#2e7d32', DEAD: '#b0b0b0', PENDING: '#7a8aa0' };

export function GraphView(props: {
  definition: Definition;
  edgeStates: Map<string, EdgeState>;
  statuses: Map<string, StepStatus>;
  critical: Set<string>;
  selected: string | null;
  onSelect(nodeId: string): void;
}) {
  const { definition, edgeStates, statuses, critical, selected, onSelect } = props;
  const [positions, setPositions] = useState<Positions | null>(null);
  useEffect(() => {
    let alive = true;
    void layoutGraph(definition).then((laid) => alive && setPositions(laid));
    return () => {
      alive = false;
    };
  }, [definition]);

  const nodes = useMemo<Node<StepNodeData>[]>(
    () =>
      positions
        ? definition.nodes.map((node) => ({
            id: node.id,
            type: 'step',
            position: positions.get(node.id) ?? { x: 0, y: 0 },
            data: {
              label: node.id,
              type: node.type,
              status: statuses.get(node.id) ?? 'PENDING',
              critical: critical.has(node.id),
              selected: node.id === selected,
            },
            draggable: false,
            connectable: false,
          }))
        : [],
    [definition, positions, statuses, critical, selected],
  );

  const edges = useMemo<Edge[]>(
    () =>
      definition.edges.map((edge, index) => {
        const state = edgeStates.get(`${edge.source}->${edge.target}`) ?? 'PENDING';
        const onPath = critical.has(edge.source) && critical.has(edge.target);
        return {
          id: `e${index}`,
          source: edge.source,
          target: edge.target,
          label: edge.sourceHandle ?? undefined,
          animated: state === 'PENDING' && statuses.get(edge.source) === 'RUNNING',
          className: `edge-${state}`,
          style: {
            stroke: edgeColours[state],
            strokeWidth: onPath ? 3 : 1.5,
            strokeDasharray: state === 'DEAD' ? '4 4' : undefined,
          },
        };
      }),
    [definition, edgeStates, critical, statuses],
  );

  if (!positions) return <div className="graph graph-loading muted">Laying the graph out…</div>;
  const large = definition.nodes.length > 300;
  return (
    <div className="graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodeClick={(_event, node) => onSelect(node.id)}
        onlyRenderVisibleElements
        nodesDraggable={false}
        nodesConnectable={false}
        fitView
        // A large graph opens on its first nodes at a readable size, not shrunk whole into dots.
        fitViewOptions={large ? { nodes: definition.nodes.slice(0, 40).map((node) => ({ id: node.id })) } : undefined}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
        {!large && <MiniMap pannable zoomable />}
      </ReactFlow>
    </div>
  );
}
