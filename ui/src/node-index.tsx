// Every node of the run with its status, and every edge with its state, as a list: the whole run at a
// glance (also when the graph shows only part of a large one); a node is selected by a click.
import type { EdgeState, StepStatus } from './gql/graphql';
import type { Definition } from './run-data';

export function NodeIndex(props: {
  definition: Definition;
  statuses: Map<string, StepStatus>;
  critical: Set<string>;
  selected: string | null;
  onSelect(nodeId: string): void;
}) {
  const { definition, statuses, critical, selected, onSelect } = props;
  return (
    <ol className="node-index" aria-label="Nodes">
      {definition.nodes.map((node) => {
        const status = statuses.get(node.id) ?? 'PENDING';
        return (
          <li
            key={node.id}
            data-node-id={node.id}
            data-status={status}
            data-critical={critical.has(node.id) ? 'true' : undefined}
            className={`status-${status}${node.id === selected ? ' selected' : ''}`}
            onClick={() => onSelect(node.id)}
          >
            <span className="dot" /> {node.id} <span className="muted">{node.type}</span> <em>{status}</em>
          </li>
        );
      })}
    </ol>
  );
}

export function EdgeIndex({ definition, edgeStates }: { definition: Definition; edgeStates: Map<string, EdgeState> }) {
  return (
    <details className="edge-index">
      <summary>Edges ({definition.edges.length})</summary>
      <ul>
        {definition.edges.map((edge, index) => {
          const key = `${edge.source}->${edge.target}`;
          const state = edgeStates.get(key) ?? 'PENDING';
          return (
            <li key={index} data-edge={key} data-state={state} className={`edge-${state}`}>
              {edge.source} → {edge.target}
              {edge.sourceHandle ? ` (${edge.sourceHandle})` : ''} <em>{state}</em>
            </li>
          );
        })}
      </ul>
    </details>
  );
}
