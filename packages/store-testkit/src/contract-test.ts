import { it, type TestContext } from "node:test";
import { type LogStoreSuiteOptions, type StoreUnderTest, withStore } from "./harness.js";

/** Declares one contract test: it runs on a fresh store, cleaned up afterwards. */
export type ContractTest = (name: string, fn: (harness: StoreUnderTest, t: TestContext) => Promise<void>) => void;

export function contractTest(options: LogStoreSuiteOptions): ContractTest {
  const timeout = options.timeoutMs ?? 10_000;
  return (name, fn) => {
    it(name, { timeout }, (t) => withStore(options.create, (harness) => fn(harness, t)));
  };
}
