// Local devices and the two peer connections of the protocol: one publisher, one multistream subscriber.

const VIDEO_CONSTRAINTS = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };

function candidateJson(candidate) {
  if (!candidate || !candidate.candidate) return null;
  return { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex };
}

/** The camera and microphone of this browser, with device choice and on/off state. */
export class LocalMedia extends EventTarget {
  constructor() {
    super();
    this.audioTrack = null;
    this.videoTrack = null;
    this.screenTrack = null;
    this.audioDeviceId = localStorage.getItem('conclave.mic') || '';
    this.videoDeviceId = localStorage.getItem('conclave.cam') || '';
    this.audioOn = false;
    this.videoOn = false;
    this.error = null;
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }

  async devices() {
    if (!navigator.mediaDevices?.enumerateDevices) return { audio: [], video: [] };
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      audio: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
      video: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
    };
  }

  async acquire(kind) {
    if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error('no media'), { name: 'NotSupportedError' });
    const deviceId = kind === 'audio' ? this.audioDeviceId : this.videoDeviceId;
    const base = kind === 'audio' ? { echoCancellation: true, noiseSuppression: true, autoGainControl: true }
      : { ...VIDEO_CONSTRAINTS };
    const constraints = deviceId ? { ...base, deviceId: { ideal: deviceId } } : base;
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraints });
    const track = stream.getTracks()[0];
    const settings = track.getSettings();
    if (settings.deviceId) {
      if (kind === 'audio') this.audioDeviceId = settings.deviceId;
      else this.videoDeviceId = settings.deviceId;
    }
    return track;
  }

  async setAudio(on) {
    this.error = null;
    if (on && !this.audioTrack) {
      try { this.audioTrack = await this.acquire('audio'); } catch (error) { this.error = error; on = false; }
    }
    if (this.audioTrack) this.audioTrack.enabled = on;
    this.audioOn = on && !!this.audioTrack;
    this.changed();
    return this.audioOn;
  }

  async setVideo(on) {
    this.error = null;
    if (on && !this.videoTrack) {
      try { this.videoTrack = await this.acquire('video'); } catch (error) { this.error = error; on = false; }
    }
    if (!on && this.videoTrack) {
      this.videoTrack.stop();
      this.videoTrack = null;
    }
    this.videoOn = on && !!this.videoTrack;
    this.changed();
    return this.videoOn;
  }

  async chooseDevice(kind, deviceId) {
    if (kind === 'audio') {
      this.audioDeviceId = deviceId;
      localStorage.setItem('conclave.mic', deviceId);
      if (this.audioTrack) {
        const wasOn = this.audioOn;
        this.audioTrack.stop();
        this.audioTrack = null;
        await this.setAudio(true);
        if (!wasOn) await this.setAudio(false);
      }
    } else {
      this.videoDeviceId = deviceId;
      localStorage.setItem('conclave.cam', deviceId);
      if (this.videoTrack) {
        this.videoTrack.stop();
        this.videoTrack = null;
        await this.setVideo(true);
      }
    }
  }

  /** What the publisher sends as video: the screen while sharing, else the camera (or nothing). */
  get outgoingVideo() {
    return this.screenTrack || this.videoTrack;
  }

  async startScreen() {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const track = stream.getVideoTracks()[0];
    track.contentHint = 'detail';
    this.screenTrack = track;
    track.addEventListener('ended', () => {
      if (this.screenTrack === track) {
        this.screenTrack = null;
        this.dispatchEvent(new Event('screenended'));
        this.changed();
      }
    });
    this.changed();
    return track;
  }

  stopScreen() {
    if (this.screenTrack) {
      this.screenTrack.stop();
      this.screenTrack = null;
      this.changed();
    }
  }

  stopAll() {
    for (const track of [this.audioTrack, this.videoTrack, this.screenTrack]) track?.stop();
    this.audioTrack = this.videoTrack = this.screenTrack = null;
    this.audioOn = this.videoOn = false;
  }
}

/** A peer connection whose remote ICE candidates wait until the remote description is set. */
class Link {
  constructor(target, signaling) {
    this.target = target;
    this.signaling = signaling;
    this.pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.remoteCandidates = [];
    this.localReady = false;
    this.localQueue = [];
    this.pc.addEventListener('icecandidate', (event) => this.sendCandidate(candidateJson(event.candidate)));
  }

  sendCandidate(candidate) {
    if (!this.localReady) {
      this.localQueue.push(candidate);
      return;
    }
    this.signaling.send({ type: 'trickle', target: this.target, candidate });
  }

  /** Local candidates may go out once the server knows this connection (after publish/answer). */
  openLocal() {
    this.localReady = true;
    for (const candidate of this.localQueue.splice(0)) this.sendCandidate(candidate);
  }

  async addRemoteCandidate(candidate) {
    if (!this.pc.remoteDescription) {
      this.remoteCandidates.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate || null);
    } catch (error) {
      console.debug('ignored remote candidate', error);
    }
  }

  async flushRemote() {
    for (const candidate of this.remoteCandidates.splice(0)) await this.addRemoteCandidate(candidate);
  }

  close() {
    try { this.pc.close(); } catch { /* closed */ }
  }
}

/** Sends this participant's microphone and camera (or screen); tracks swap without renegotiation. */
export class Publisher extends Link {
  constructor(signaling, { audio, video, screenOnly = false }) {
    super('publisher', signaling);
    this.screenOnly = screenOnly;
    this.stream = new MediaStream();
    this.audio = audio ? this.pc.addTransceiver('audio', { direction: 'sendonly', streams: [this.stream] }) : null;
    this.video = video ? this.pc.addTransceiver('video', { direction: 'sendonly', streams: [this.stream] }) : null;
    this.feedId = null;
  }

  async start(audioTrack, videoTrack) {
    if (this.audio) await this.audio.sender.replaceTrack(audioTrack || null);
    if (this.video) await this.video.sender.replaceTrack(videoTrack || null);
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    const screenOnly = this.screenOnly;
    const reply = await this.signaling.request({
      type: 'publish',
      sdp: this.pc.localDescription.sdp,
      audio: !!this.audio && !screenOnly,
      video: !!this.video && !screenOnly,
    });
    this.openLocal();
    this.feedId = reply.feed_id;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    await this.flushRemote();
    return reply;
  }

  async setTrack(kind, track) {
    const transceiver = kind === 'audio' ? this.audio : this.video;
    if (transceiver) await transceiver.sender.replaceTrack(track || null);
  }
}

/** Receives everyone else's media on one connection; answers every (re)offer from the server. */
export class Subscriber extends Link {
  constructor(signaling) {
    super('subscriber', signaling);
    this.streams = new Map();
    this.queue = Promise.resolve();
  }

  handleOffer(message, onMapped) {
    this.queue = this.queue.then(() => this.answer(message, onMapped)).catch((error) => {
      console.warn('subscriber negotiation failed', error);
    });
    return this.queue;
  }

  async answer(message, onMapped) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
    await this.flushRemote();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.signaling.send({ type: 'subscriber_answer', sdp: this.pc.localDescription.sdp });
    this.openLocal();
    this.streams = new Map((message.streams || []).map((stream) => [String(stream.mid), stream]));
    onMapped(this.tracksByFeed());
  }

  /** feed_id → {participant_id, audio, video} from the transceivers the latest offer describes. */
  tracksByFeed() {
    const result = new Map();
    for (const transceiver of this.pc.getTransceivers()) {
      const stream = this.streams.get(String(transceiver.mid));
      if (!stream || !transceiver.receiver?.track) continue;
      if (transceiver.currentDirection === 'inactive' || transceiver.direction === 'inactive') continue;
      const kind = transceiver.receiver.track.kind;
      if (kind !== 'audio' && kind !== 'video') continue;
      const entry = result.get(stream.feed_id) || { participant_id: stream.participant_id, audio: null, video: null };
      entry.participant_id = entry.participant_id || stream.participant_id;
      entry[kind] = transceiver.receiver.track;
      result.set(stream.feed_id, entry);
    }
    return result;
  }
}
