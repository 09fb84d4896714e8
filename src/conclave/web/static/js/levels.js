// Web Audio level metering: who is speaking, and a live level for the microphone preview.

const SPEAKING_LEVEL = 0.02;
const HOLD_MS = 1200;

export class AudioLevels {
  constructor(onChange) {
    this.onChange = onChange;
    this.context = null;
    this.meters = new Map();
    this.active = null;
    this.activeSince = 0;
    this.timer = null;
  }

  ensureContext() {
    if (!this.context) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      this.context = new Context();
    }
    if (this.context.state === 'suspended') this.context.resume().catch(() => {});
    return this.context;
  }

  /** Meter ``track`` under ``id`` (replacing any earlier track for the same id). */
  watch(id, track) {
    const existing = this.meters.get(id);
    if (existing && existing.track === track) return;
    this.unwatch(id);
    if (!track) return;
    const context = this.ensureContext();
    if (!context) return;
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    analyser.smoothingTimeConstant = 0.3;
    source.connect(analyser);
    this.meters.set(id, { track, source, analyser, data: new Float32Array(analyser.fftSize), level: 0 });
    if (!this.timer) this.timer = setInterval(() => this.sample(), 100);
  }

  unwatch(id) {
    const meter = this.meters.get(id);
    if (!meter) return;
    try { meter.source.disconnect(); } catch { /* gone */ }
    this.meters.delete(id);
  }

  level(id) {
    return this.meters.get(id)?.level || 0;
  }

  sample() {
    let loudest = null;
    let loudestLevel = SPEAKING_LEVEL;
    for (const [id, meter] of this.meters) {
      if (meter.track.readyState === 'ended' || !meter.track.enabled) {
        meter.level = 0;
        continue;
      }
      meter.analyser.getFloatTimeDomainData(meter.data);
      let sum = 0;
      for (const value of meter.data) sum += value * value;
      const rms = Math.sqrt(sum / meter.data.length);
      meter.level = meter.level * 0.6 + rms * 0.4;
      if (meter.level > loudestLevel) {
        loudest = id;
        loudestLevel = meter.level;
      }
    }
    const now = performance.now();
    if (loudest && loudest !== this.active) {
      this.active = loudest;
      this.activeSince = now;
    } else if (!loudest && this.active && now - this.activeSince > HOLD_MS) {
      this.active = null;
    } else if (loudest) {
      this.activeSince = now;
    }
    this.onChange(this);
  }

  close() {
    clearInterval(this.timer);
    this.timer = null;
    for (const id of [...this.meters.keys()]) this.unwatch(id);
    this.context?.close().catch(() => {});
    this.context = null;
  }
}
