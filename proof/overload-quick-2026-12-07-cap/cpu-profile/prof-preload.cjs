// Preload for a diagnostic: SIGUSR2 starts the V8 CPU profiler, the next SIGUSR2 stops it and writes PROF_OUT.
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
let running = false;
process.on('SIGUSR2', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
  } else {
    running = false;
    session.post('Profiler.stop', (err, { profile }) => {
      if (!err) fs.writeFileSync(process.env.PROF_OUT, JSON.stringify(profile));
    });
  }
});
