// The filter bar: time range, accounts, regions, severity labels.

import type { Account, SeverityLabel } from '../api';
import { SEVERITY_LABELS } from '../api';
import type { ViewFilter } from '../filters';
import { RANGES } from '../filters';
import { labelName } from '../format';

const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1',
  'ap-southeast-2', 'ap-south-1', 'sa-east-1', 'me-south-1', 'af-south-1',
];

function selected(e: Event): string[] {
  return Array.from((e.target as HTMLSelectElement).selectedOptions).map((o) => o.value).filter(Boolean);
}

export function FilterBar(props: {
  filter: ViewFilter;
  accounts: Account[];
  regions?: string[];
  onChange: (f: ViewFilter) => void;
}) {
  const f = props.filter;
  const set = (patch: Partial<ViewFilter>) => props.onChange({ ...f, ...patch });
  const regions = Array.from(new Set([...(props.regions ?? []), ...REGIONS, ...f.regions])).sort();
  return (
    <form class="filter-bar" data-testid="filter-bar" onSubmit={(e) => e.preventDefault()}>
      <label>
        Time range
        <select
          data-testid="filter-range"
          value={f.since ? 'custom' : f.range}
          onChange={(e) => set({ range: (e.target as HTMLSelectElement).value, since: undefined, before: undefined })}
        >
          {f.since && <option value="custom">{f.since.slice(0, 10)}</option>}
          {RANGES.map((r) => (
            <option value={r.key}>{r.label}</option>
          ))}
        </select>
      </label>
      <label>
        Accounts
        <select multiple size={3} data-testid="filter-accounts" onChange={(e) => set({ accounts: selected(e) })}>
          {props.accounts.map((a) => (
            <option value={a.id} selected={f.accounts.includes(a.id)}>
              {a.name ? `${a.name} (${a.id})` : a.id}
            </option>
          ))}
        </select>
      </label>
      <label>
        Regions
        <select multiple size={3} data-testid="filter-regions" onChange={(e) => set({ regions: selected(e) })}>
          {regions.map((r) => (
            <option value={r} selected={f.regions.includes(r)}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <fieldset class="sev-filter" data-testid="filter-severity">
        <legend>Severity</legend>
        {SEVERITY_LABELS.map((l: SeverityLabel) => (
          <label class="check">
            <input
              type="checkbox"
              data-testid={`filter-severity-${l.toLowerCase()}`}
              checked={f.severities.includes(l)}
              onChange={(e) => {
                const on = (e.target as HTMLInputElement).checked;
                set({ severities: SEVERITY_LABELS.filter((x) => (x === l ? on : f.severities.includes(x))) });
              }}
            />
            {labelName(l)}
          </label>
        ))}
      </fieldset>
      {(f.types.length > 0 || f.resourceKey || f.typePrefix) && (
        <div class="chips" data-testid="filter-chips">
          {f.types.map((t) => (
            <button type="button" class="chip" onClick={() => set({ types: f.types.filter((x) => x !== t) })}>
              type: {t} ✕
            </button>
          ))}
          {f.typePrefix && (
            <button type="button" class="chip" onClick={() => set({ typePrefix: undefined })}>
              type: {f.typePrefix}* ✕
            </button>
          )}
          {f.resourceKey && (
            <button type="button" class="chip" onClick={() => set({ resourceKey: undefined })}>
              resource: {f.resourceKey} ✕
            </button>
          )}
        </div>
      )}
    </form>
  );
}
