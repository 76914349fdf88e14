// The package's `require` entry: ffinet is ESM only (top-level await loads
// the FFI backend), so require() gets this error instead of a loader error.
"use strict";
throw new Error('ffinet is ESM only: use import() or `import ... from "ffinet"`');
