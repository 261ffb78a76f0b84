/** HttpError and the PROTOCOL_ERRORS table. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HttpError, type HttpErrorCode, PROTOCOL_ERRORS } from "../../src/core/mod.ts";

describe("HttpError", () => {
  it("HttpError carries code, status, RFC section, offset and message", () => {
    const error = new HttpError("CL_TE_CONFLICT", 99);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "HttpError");
    assert.equal(error.code, "CL_TE_CONFLICT");
    assert.equal(error.status, 400);
    assert.equal(error.rfc, "RFC 9112 §6.1");
    assert.equal(error.offset, 99);
    assert.equal(error.message, "both Transfer-Encoding and Content-Length");
    assert.equal(new HttpError("OBS_FOLD").offset, 0);
  });

  it("HttpError.details returns the same fields as plain data", () => {
    const details = new HttpError("BODY_TOO_LARGE", 7).details();
    assert.deepEqual(details, {
      code: "BODY_TOO_LARGE",
      status: 413,
      rfc: "RFC 9110 §15.5.14",
      offset: 7,
      message: "request body too large",
    });
    assert.equal(Object.getPrototypeOf(details), Object.prototype);
  });

  it("PROTOCOL_ERRORS maps the documented codes to their statuses", () => {
    const expected: Partial<Record<HttpErrorCode, number>> = {
      HEADERS_TOO_LARGE: 431,
      TOO_MANY_HEADERS: 431,
      TRAILERS_TOO_LARGE: 431,
      URI_TOO_LONG: 414,
      BODY_TOO_LARGE: 413,
      BAD_CHUNK: 400,
      UNSUPPORTED_TRANSFER_ENCODING: 501,
      VERSION_NOT_SUPPORTED: 505,
      EXPECTATION_FAILED: 417,
      REQUEST_TIMEOUT: 408,
      MISSING_HOST: 400,
      CL_TE_CONFLICT: 400,
    };
    for (const [code, status] of Object.entries(expected)) {
      assert.equal(PROTOCOL_ERRORS[code as HttpErrorCode].status, status, code);
    }
  });

  it("PROTOCOL_ERRORS entries all have a 4xx/5xx status, an RFC section and a message", () => {
    for (const [code, entry] of Object.entries(PROTOCOL_ERRORS)) {
      assert.ok(entry.status >= 400 && entry.status <= 599, code);
      assert.match(entry.rfc, /^RFC \d+ §[\d.]+$/, code);
      assert.ok(entry.message.length > 0 && !entry.message.includes("\n"), code);
    }
  });
});
