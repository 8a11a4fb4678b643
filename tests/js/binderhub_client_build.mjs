// Runs BinderHub's own JavaScript client, @jupyterhub/binderhub-client, against a build
// endpoint and prints, one JSON object per line, every event the client yields.
//
//   node --experimental-detect-module tests/js/binderhub_client_build.mjs ENDPOINT SPEC
//
// ENDPOINT is the build endpoint URL (".../services/hub-extensions/build/"), SPEC a BinderHub
// provider spec ("git/<url-encoded url>/<ref>"). The token comes from BINDERHUB_API_TOKEN
// (sent by the client as "Authorization: Bearer ..."), not the command line, so it never
// shows in a process listing. The events are consumed the way BinderHub's own UI does
// (BuilderLauncher.jsx): every event is taken, and close() is called on "ready" or "failed";
// the loop ends when the client's iterator does. Exit status 0 unless the script itself broke.
//
// The client is written for browsers: its fetch-event-source dependency calls
// window.setTimeout / window.clearTimeout / window.fetch and document.removeEventListener
// even with openWhenHidden. Node has fetch and timers; the two globals below hand it those.
// (--experimental-detect-module: the package's lib/*.js are ES modules in a package without
// "type": "module", which Node 20 otherwise loads as CommonJS; Node >= 22.7 detects it.)

globalThis.window ??= globalThis;
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };
// The client never awaits fetchEventSource's promise, which rejects when the client ends the
// stream on an HTTP error. A browser logs such a rejection; Node would exit on it.
process.on("unhandledRejection", (err) => console.error("unhandled rejection:", err));

const { BinderRepository } = await import("@jupyterhub/binderhub-client/client.js");

// The client logs stream errors with console.log; stdout is for the events alone.
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
console.log = console.error;

const [endpoint, spec] = process.argv.slice(2);
if (!endpoint || !spec) {
  console.error("usage: binderhub_client_build.mjs ENDPOINT SPEC  (token in BINDERHUB_API_TOKEN)");
  process.exit(2);
}
const repo = new BinderRepository(spec, new URL(endpoint), {
  apiToken: process.env.BINDERHUB_API_TOKEN,
  buildOnly: true,
});
const deadline = setTimeout(() => {
  emit({ phase: "script-timeout", message: "no terminal event in time" });
  repo.close();
}, Number(process.env.BINDERHUB_CLIENT_TIMEOUT_MS || 300000));

for await (const data of repo.fetch()) {
  emit(data);
  if (data.phase === "ready" || data.phase === "failed") {
    repo.close();
  }
}
clearTimeout(deadline);
