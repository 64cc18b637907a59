import { HedgeBudget } from './hedge-budget.js';

describe('HedgeBudget', () => {
  it('starts empty, pays one token per hedge and gives refunds back', () => {
    const budget = new HedgeBudget();
    expect(budget.tryWithdraw()).toBe(false);
    budget.deposit(0.6);
    budget.deposit(0.6);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.available).toBeCloseTo(0.2, 9);
    expect(budget.tryWithdraw()).toBe(false);
    budget.refund();
    expect(budget.available).toBeCloseTo(1.2, 9);
    // Exactly one token pays for a hedge.
    const exact = new HedgeBudget();
    exact.deposit(0.5);
    exact.deposit(0.5);
    expect(exact.tryWithdraw()).toBe(true);
  });

  it('banks at most 10 tokens while few hedged calls run', () => {
    const budget = new HedgeBudget();
    for (let i = 0; i < 5; i++) budget.callStarted();
    budget.deposit(50);
    expect(budget.available).toBe(10);
    budget.refund();
    expect(budget.available).toBe(10);
  });

  it('banks up to one token per hedged call running, and shrinks back when they end', () => {
    const budget = new HedgeBudget();
    for (let i = 0; i < 40; i++) budget.callStarted();
    budget.deposit(100);
    expect(budget.available).toBe(40);
    for (let i = 0; i < 39; i++) budget.callEnded();
    budget.deposit(0);
    expect(budget.available).toBe(10);
    // A burst of hedges for the calls of a paused node: one per running call, no more.
    for (let i = 0; i < 24; i++) budget.callStarted();
    budget.deposit(100);
    let paid = 0;
    while (budget.tryWithdraw()) paid++;
    expect(paid).toBe(25);
  });
});
