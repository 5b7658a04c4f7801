// MITRE ATT&CK Enterprise tactics in kill-chain order (shared/reference/correlation.md).

/** Tactic ids and names, in kill-chain order. */
export const KILL_CHAIN: { id: string; name: string }[] = [
  { id: 'TA0043', name: 'Reconnaissance' },
  { id: 'TA0042', name: 'Resource Development' },
  { id: 'TA0001', name: 'Initial Access' },
  { id: 'TA0002', name: 'Execution' },
  { id: 'TA0003', name: 'Persistence' },
  { id: 'TA0004', name: 'Privilege Escalation' },
  { id: 'TA0005', name: 'Defense Evasion' },
  { id: 'TA0112', name: 'Defense Impairment' },
  { id: 'TA0006', name: 'Credential Access' },
  { id: 'TA0007', name: 'Discovery' },
  { id: 'TA0008', name: 'Lateral Movement' },
  { id: 'TA0009', name: 'Collection' },
  { id: 'TA0011', name: 'Command and Control' },
  { id: 'TA0010', name: 'Exfiltration' },
  { id: 'TA0040', name: 'Impact' },
];

/** Position of a tactic id in the kill chain (unknown ids last). */
export function killChainIndex(id: string): number {
  const i = KILL_CHAIN.findIndex((t) => t.id === id);
  return i < 0 ? KILL_CHAIN.length : i;
}
