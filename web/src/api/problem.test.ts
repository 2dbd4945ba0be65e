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

test("validation errors land on their fields as sentences named by the form's labels", () => {
  const shown = describeError(
    {
      code: "validation_error",
      detail: "See `errors` for each invalid field",
      errors: [
        { loc: ["body", "settings", "base_url"], msg: "Value error, the URL must use https", type: "value_error" },
        { loc: ["body", "credentials", "api_token"], msg: "Field required", type: "missing" },
      ],
    },
    [],
    { base_url: "Jira URL", api_token: "API Token" },
  );
  expect(shown.fields).toEqual({ base_url: "The URL must use https.", api_token: "API Token is required." });
  expect(shown.message).not.toContain("base_url");
});

test("an unsafe URL names its field in the detail and lands there", () => {
  const shown = describeError(
    { code: "unsafe_url", detail: "base_url: the URL must use https" },
    [],
    { base_url: "Jira URL" },
  );
  expect(shown.fields.base_url).toBe("Rita's servers may not call this address: the URL must use https.");
  expect(shown.message).not.toContain("base_url:");
});
