import { SignInRequired } from "./auth";
import { describeError, redact } from "./problem";

test("redact removes every occurrence of a secret", () => {
  expect(redact("a SECRET and SECRET", ["SECRET"])).toBe("a ••• and •••");
  expect(redact("abc", ["ab"])).toBe("abc");
});

test("known codes without detail get the console's message", () => {
  expect(describeError({ code: "sync_in_progress" }).message).toBe("A ticket import is already running.");
  expect(describeError(new SignInRequired()).message).toMatch(/Sign-in required/);
  expect(describeError(new TypeError("fetch failed")).message).toMatch(/Could not reach Rita/);
  expect(describeError("weird").message).toBe("Something went wrong. Try again.");
});
