/**
 * Accounts and plans: what each account bought (an account may name its plan and override its screen limit). Plans come from the config and can be set (overridden or added)
 * through the API, which writes them to the store. Kept in memory because admission reads them on every request.
 */
import type { Config, PlanConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { AccountRecord, PlanRecord } from './types.js';

export class AccountsAndPlans {
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly stored = new Map<string, PlanRecord>();
  private readonly configured = new Map<string, PlanRecord>();

  constructor(private readonly store: Store, plans: Config['plans']) {
    for (const [name, p] of Object.entries(plans)) this.configured.set(name, planFromConfig(name, p));
  }

  async load(): Promise<void> {
    for (const a of await this.store.listAccounts()) this.accounts.set(a.id, a);
    for (const p of await this.store.listPlans()) this.stored.set(p.name, p);
  }

  account(id: string): AccountRecord | undefined {
    return this.accounts.get(id);
  }

  accountList(): AccountRecord[] {
    return [...this.accounts.values()];
  }

  async putAccount(a: AccountRecord): Promise<void> {
    await this.store.putAccount(a);
    this.accounts.set(a.id, a);
  }

  /** A plan by name: one set through the API wins over the config's. */
  plan(name: string): PlanRecord | undefined {
    return this.stored.get(name) ?? this.configured.get(name);
  }

  planList(): Array<PlanRecord & { source: 'config' | 'api' }> {
    const names = new Set([...this.configured.keys(), ...this.stored.keys()]);
    return [...names].sort().map((n) => ({ ...this.plan(n)!, source: this.stored.has(n) ? 'api' : 'config' }));
  }

  async putPlan(p: PlanRecord): Promise<void> {
    await this.store.putPlan(p);
    this.stored.set(p.name, p);
  }

  /** The plan that applies: the account's own (set by the operator) wins over the token's claim; else `default`. */
  resolve(account: string | null, claimedPlan: string | null): { plan: PlanRecord; account: AccountRecord | undefined } {
    const acc = account === null ? undefined : this.accounts.get(account);
    const plan = (acc?.plan && this.plan(acc.plan)) || (claimedPlan && this.plan(claimedPlan)) || this.plan('default')!;
    return { plan, account: acc };
  }
}

export function planFromConfig(name: string, p: PlanConfig): PlanRecord {
  return {
    name,
    maxSessions: p.maxSessions,
    onLimit: p.onLimit,
    exemptStreams: [...p.exemptStreams],
    exemptProtocols: [...p.exemptProtocols],
    maxDurationSeconds: p.maxDurationSeconds,
  };
}
