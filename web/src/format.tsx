// Display formatting shared by the views.

import type { SeverityLabel } from './api';

/** Console spelling of a severity label. */
export function labelName(l: SeverityLabel | string): string {
  return l.charAt(0) + l.slice(1).toLowerCase();
}

/** The label of a numeric severity (GuardDuty's ranges, Critical from 9.0). */
export function labelOf(severity: number): SeverityLabel {
  if (severity >= 9) return 'CRITICAL';
  if (severity >= 7) return 'HIGH';
  if (severity >= 4) return 'MEDIUM';
  return 'LOW';
}

/** Colours of the severity labels (chart series and badges). */
export const SEVERITY_COLORS: Record<SeverityLabel, string> = {
  LOW: '#6b8fb5',
  MEDIUM: '#e0a030',
  HIGH: '#d9534f',
  CRITICAL: '#7b1fa2',
};

/** `2026-11-28 05:12` (UTC) from an ISO string or epoch ms. */
export function when(t: string | number | null | undefined): string {
  if (t === null || t === undefined || t === '') return '—';
  const d = new Date(typeof t === 'number' ? t : Date.parse(t) || Number(t));
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** "3 h", "2 d": the age of an instant relative to now. */
export function age(t: string | number | null | undefined, nowMs: number = Date.now()): string {
  if (t === null || t === undefined) return 'unknown';
  const ms = nowMs - (typeof t === 'number' ? t : Date.parse(t));
  if (!Number.isFinite(ms)) return 'unknown';
  const h = ms / 3_600_000;
  if (h < 1) return `${Math.max(0, Math.round(ms / 60_000))} min`;
  if (h < 48) return `${Math.round(h)} h`;
  return `${Math.round(h / 24)} d`;
}

/** A severity badge. */
export function SeverityBadge(props: { severity: number }) {
  const l = labelOf(props.severity);
  return (
    <span class={`sev sev-${l.toLowerCase()}`} title={`${props.severity}`}>
      {labelName(l)} {props.severity.toFixed(1)}
    </span>
  );
}
