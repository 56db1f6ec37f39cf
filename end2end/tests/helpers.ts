import { APIRequestContext, expect } from "@playwright/test";
import { EMULATOR_URL } from "../playwright.config";

/** A fault for the emulator's next calls to `path`, as its `/_emulator/faults` API takes it. */
export type Fault = {
  path: string;
  fault: "status" | "delay" | "malformed" | "drop";
  status?: number;
  delay_ms?: number;
  times?: number;
};

/** Queues a fault in the emulator. */
export async function queueFault(request: APIRequestContext, fault: Fault) {
  const response = await request.post(`${EMULATOR_URL}/_emulator/faults`, { data: fault });
  expect(response.status()).toBe(204);
}

/** Clears every queued fault. */
export async function clearFaults(request: APIRequestContext) {
  const response = await request.delete(`${EMULATOR_URL}/_emulator/faults`);
  expect(response.status()).toBe(204);
}
