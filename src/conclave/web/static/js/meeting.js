// The meeting itself: protocol state, media, and the in-room interface.

import { Content } from './content.js';
import { clear, h, hueFor, icon, initials } from './dom.js';
import { t } from './i18n.js';
import { AudioLevels } from './levels.js';
import { Publisher, Subscriber } from './media.js';
import { QualityMonitor } from './quality.js';
import { Signaling } from './signaling.js';

const REACTIONS = ['👍', '👏', '❤️', '😂', '😮', '🎉'];
const FATAL_CLOSE = new Set([4400, 4401, 4403, 4404, 4409, 4410, 4411, 4412, 4503]);
const RECONNECT_FOR_MS = 45000;

function socketUrl(config, query) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${config.rtc_path}?${query}`;
}

function formatTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString(document.documentElement.lang || undefined, { hour: '2-digit', minute: '2-digit' });
}

function button({ label, iconName, onClick, className = '', pressed, text, id }) {
  const el = h('button', {
    type: 'button', class: `ctl ${className}`.trim(), 'aria-label': label, title: label, id, onclick: onClick,
  }, icon(iconName), h('span', { class: 'ctl-label', text: text ?? label }));
  if (pressed !== undefined) el.setAttribute('aria-pressed', String(!!pressed));
  return el;
}

export class Meeting {
  /**
   * @param config  the page configuration embedded by the server
   * @param local   LocalMedia (camera and microphone)
   * @param options {name, onEnd(kind, detail), root}
   */
  constructor(config, local, { name, onEnd, root }) {
    this.config = config;
    this.local = local;
    this.name = name;
    this.onEnd = onEnd;
    this.root = root;
    this.settings = config.room.settings || {};
    this.permissions = config.permissions || {};
    this.phase = 'connecting';
    this.self = null;
    this.participants = new Map();
    this.feeds = new Map();
    this.waiting = new Map();
    this.chat = [];
    this.captions = new Map();
    this.recording = null;
    this.locked = !!config.room.is_locked;
    this.resumeToken = null;
    this.publisher = null;
    this.subscriber = null;
    this.panel = null;
    this.unread = 0;
    this.lastError = null;
    this.leaving = false;
    this.quality = null;
    this.reconnectStarted = 0;
    this.levels = new AudioLevels(() => this.renderSpeaking());
    this.ui = null;
    this.content = new Content(this);
    this.trace = [];
    local.addEventListener('screenended', () => this.stopScreenShare());
    window.conclaveMeeting = this;
  }

  // -- connection ------------------------------------------------------------------------------

  query() {
    const params = new URLSearchParams(location.search);
    const token = params.get('token');
    return token ? `token=${encodeURIComponent(token)}` : `room=${encodeURIComponent(this.config.room.id)}`;
  }

  async start() {
    await this.open({ resume: null });
  }

  async open({ resume }) {
    this.lastError = null;
    // A fresh join is the URL itself (`join=1`): the server admits us as the socket opens and
    // prepares our subscriber meanwhile. A resume sends a `join` message with its token.
    let query = this.query();
    if (!resume) {
      const join = new URLSearchParams({ join: '1', subscribe: '1' });
      if (this.name) join.set('display_name', this.name);
      query = `${query}&${join}`;
    }
    const signaling = new Signaling(socketUrl(this.config, query));
    this.signaling = signaling;
    signaling.addEventListener('message', (event) => {
      if (this.signaling === signaling) this.onMessage(event.detail);
    });
    signaling.addEventListener('close', (event) => {
      if (this.signaling === signaling) this.onClose(event.detail.code);
    });
    await signaling.connect();
    // The first subscriber offer follows `joined`.
    if (resume) signaling.send({ type: 'join', subscribe: true, resume });
  }

  onClose(code) {
    this.teardownMedia();
    if (this.leaving || this.phase === 'ended') return;
    const error = this.lastError;
    if (this.rejoinFresh) {
      this.rejoinFresh = false;
      this.resumeToken = null;
      this.reconnect();
      return;
    }
    if (code === 4410) return this.end('kicked');
    if (code === 4411) return this.end('session_ended', { reason: this.endReason });
    if (code === 4412) return this.end('replaced');
    if (this.phase === 'reconnecting' && error?.code === 'resume_expired') {
      this.resumeToken = null;
      this.reconnect();
      return;
    }
    if (code === 4403 && this.phase === 'waiting') return this.end('denied');
    if (FATAL_CLOSE.has(code)) return this.end('refused', { code: error?.code || String(code), message: error?.message });
    if (this.phase === 'joined' || this.phase === 'reconnecting' || this.phase === 'waiting') {
      this.reconnect();
      return;
    }
    this.end('connection_failed');
  }

  reconnect() {
    const wasWaiting = this.phase === 'waiting';
    if (this.phase !== 'reconnecting') this.reconnectStarted = performance.now();
    this.phase = 'reconnecting';
    this.setBanner(t('room.reconnecting'));
    const elapsed = performance.now() - this.reconnectStarted;
    if (elapsed > RECONNECT_FOR_MS) {
      this.end('connection_failed');
      return;
    }
    const delay = Math.min(4000, 500 * 2 ** Math.floor(elapsed / 4000));
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(async () => {
      try {
        await this.open({ resume: wasWaiting ? null : this.resumeToken });
      } catch {
        this.reconnect();
      }
    }, delay);
  }

  end(kind, detail = {}) {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    clearTimeout(this.reconnectTimer);
    this.signaling?.close();
    this.teardownMedia();
    this.levels.close();
    this.quality?.stop();
    this.content.stop();
    this.local.stopAll();
    window.removeEventListener('keydown', this.keyHandler);
    this.onEnd(kind, detail);
  }

  leave() {
    this.leaving = true;
    this.signaling?.send({ type: 'leave' });
    setTimeout(() => this.signaling?.close(), 300);
    this.end('left');
  }

  // -- server messages -------------------------------------------------------------------------

  onMessage(message) {
    this.trace.push(`${new Date().toISOString().slice(11, 23)} ${message.type}${message.code ? ` ${message.code}: ${message.message}` : ''}`);
    if (this.trace.length > 200) this.trace.shift();
    const handler = {
      waiting: () => this.onWaiting(),
      admitted: () => { this.phase = 'connecting'; },
      denied: () => this.end('denied'),
      joined: () => this.onJoined(message),
      error: () => this.onError(message),
      published: () => {},
      subscriber_offer: () => this.onSubscriberOffer(message),
      trickle: () => this.onTrickle(message),
      participant_joined: () => this.upsertParticipant(message.participant, { joined: true }),
      participant_updated: () => this.onParticipantUpdated(message),
      participant_left: () => this.onParticipantLeft(message),
      feed_published: () => { this.feeds.set(message.feed_id, message.participant_id); },
      feed_unpublished: () => this.onFeedUnpublished(message),
      participant_waiting: () => this.onParticipantWaiting(message.participant),
      room_updated: () => this.onRoomUpdated(message),
      chat_message: () => this.onChatMessage(message.message, true),
      reaction: () => this.showReaction(message.participant_id, message.emoji),
      recording_started: () => this.setRecording({ recording_id: message.recording_id, mode: message.mode }),
      recording_stopped: () => this.setRecording(null),
      caption: () => this.onCaption(message),
      qa_updated: () => this.content.onMessage(message),
      poll_started: () => this.content.onMessage(message),
      poll_updated: () => this.content.onMessage(message),
      poll_ended: () => this.content.onMessage(message),
      poll_deleted: () => this.content.onMessage(message),
      quiz_started: () => this.content.onMessage(message),
      quiz_ended: () => this.content.onMessage(message),
      kicked: () => { this.phase = 'kicked'; },
      session_ended: () => { this.endReason = message.reason; },
      room_media_lost: () => { this.rejoinFresh = true; this.signaling.close(); this.onClose(1006); },
    }[message.type];
    if (handler) handler();
  }

  onError(message) {
    if (this.phase === 'joined' && message.reply_to === undefined && /^subscription failed/.test(message.message || '')) {
      this.retrySubscribe();
      return;
    }
    if (this.phase === 'joined' && message.code && !['closed'].includes(message.code)) {
      this.toast(t('room.error', { message: message.message || message.code }), 'warn');
    }
    this.lastError = message;
  }

  onWaiting() {
    this.phase = 'waiting';
    this.onEnd('waiting', {
      cancel: () => {
        this.leaving = true;
        this.end('left');
      },
    });
  }

  async onJoined(message) {
    const resumed = this.phase === 'reconnecting';
    this.phase = 'joined';
    this.self = { ...message.participant, tile: this.self?.tile };
    this.resumeToken = message.resume_token;
    this.permissions = message.permissions || this.permissions;
    this.settings = message.room.settings || this.settings;
    this.locked = !!message.room.is_locked;
    this.recording = message.recording;
    this.feeds = new Map((message.feeds || []).map((feed) => [feed.feed_id, feed.participant_id]));
    const previous = this.participants;
    this.participants = new Map();
    for (const participant of message.participants || []) {
      const old = previous.get(participant.id);
      this.participants.set(participant.id, { ...participant, audio: null, video: null, tile: old?.tile, audioEl: old?.audioEl });
    }
    for (const [id, old] of previous) {
      if (!this.participants.has(id)) this.removeTile(old);
    }
    this.chat = [];
    if (!this.ui) this.buildRoom();
    this.onEnd('joined', { resumed });
    this.setBanner(null);
    clear(this.ui.messages);
    for (const item of message.chat || []) this.onChatMessage(item, false);
    this.setRecording(this.recording);
    this.renderAll();
    await this.publish();
    if (resumed) this.toast(t('room.reconnected'));
  }

  async publish() {
    const canBroadcast = !!this.permissions.broadcast;
    if (!canBroadcast && !this.local.screenTrack) return;
    const audioRoom = this.config.room.kind === 'audio';
    const screenOnly = !canBroadcast;
    const publisher = new Publisher(this.signaling, {
      audio: !screenOnly, video: !audioRoom || screenOnly, screenOnly,
    });
    this.publisher = publisher;
    publisher.pc.addEventListener('connectionstatechange', () => {
      if (publisher.pc.connectionState === 'failed' && this.publisher === publisher && this.phase === 'joined') {
        this.republish();
      }
    });
    try {
      await publisher.start(screenOnly ? null : this.local.audioTrack, this.local.outgoingVideo);
      this.sendMuteState();
    } catch (error) {
      if (this.publisher === publisher) {
        this.publisher = null;
        publisher.close();
        if (this.phase === 'joined') this.toast(t('room.publish_failed', { message: error.message }), 'warn');
      }
    }
    this.renderSelf();
  }

  async republish() {
    const old = this.publisher;
    this.publisher = null;
    old?.close();
    try { await this.signaling.request({ type: 'unpublish' }); } catch { /* not publishing */ }
    await this.publish();
  }

  sendMuteState() {
    const videoOn = this.local.videoOn || !!this.local.screenTrack;
    this.signaling.send({ type: 'mute', audio: !this.local.audioOn, video: !videoOn });
  }

  /**
   * The server subscribes us to a new feed the moment it is published, before the publisher's
   * connection is up, and Janus refuses that ("No such feed"). Without a subscriber yet, asking
   * to subscribe again (a little later) makes the server subscribe us to every feed afresh.
   */
  retrySubscribe() {
    if (this.subscriber) {
      console.warn('a feed could not be added to the existing subscription (server-side race)');
      return;
    }
    this.subscribeRetries = (this.subscribeRetries || 0) + 1;
    if (this.subscribeRetries > 8) return;
    clearTimeout(this.subscribeTimer);
    const signaling = this.signaling;
    this.subscribeTimer = setTimeout(() => {
      if (this.signaling === signaling && this.phase === 'joined' && !this.subscriber) signaling.send({ type: 'subscribe' });
    }, Math.min(5000, 400 * 2 ** (this.subscribeRetries - 1)));
  }

  onSubscriberOffer(message) {
    this.subscribeRetries = 0;
    if (!this.subscriber) {
      this.subscriber = new Subscriber(this.signaling);
      const pending = this.pendingSubscriberCandidates || [];
      this.pendingSubscriberCandidates = [];
      for (const candidate of pending) this.subscriber.addRemoteCandidate(candidate);
    }
    this.subscriber.handleOffer(message, (byFeed) => this.applyRemoteTracks(byFeed));
  }

  onTrickle(message) {
    if (message.target === 'publisher') {
      this.publisher?.addRemoteCandidate(message.candidate);
    } else if (this.subscriber) {
      this.subscriber.addRemoteCandidate(message.candidate);
    } else {
      (this.pendingSubscriberCandidates ||= []).push(message.candidate);
    }
  }

  applyRemoteTracks(byFeed) {
    const assigned = new Map();
    for (const [feedId, entry] of byFeed) {
      const participantId = entry.participant_id || this.feeds.get(feedId);
      if (!participantId) continue;
      this.feeds.set(feedId, participantId);
      assigned.set(participantId, entry);
    }
    for (const participant of this.participants.values()) {
      const entry = assigned.get(participant.id);
      participant.audio = entry?.audio || null;
      participant.video = entry?.video || null;
      this.renderTile(participant);
    }
    this.layout();
  }

  teardownMedia() {
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = null;
    this.subscriber = null;
    this.pendingSubscriberCandidates = [];
    for (const participant of this.participants.values()) {
      participant.audio = null;
      participant.video = null;
    }
  }

  // -- participants ----------------------------------------------------------------------------

  upsertParticipant(view, { joined = false } = {}) {
    if (!view || !this.self) return;
    if (view.id === this.self.id) {
      Object.assign(this.self, Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined && v !== null)));
      this.renderSelf();
      return;
    }
    const existing = this.participants.get(view.id);
    const merged = { audio: null, video: null, hand_raised: false, ...existing, ...view };
    if (view.hand_raised === undefined && existing) merged.hand_raised = existing.hand_raised;
    this.participants.set(view.id, merged);
    if (joined) {
      for (const [id, waiting] of this.waiting) {
        if (waiting.name === view.name && (waiting.external_id ?? null) === (view.external_id ?? null)) {
          this.waiting.delete(id);
          break;
        }
      }
      this.announce(t('room.joined_toast', { name: view.name }));
    }
    this.renderTile(merged);
    this.renderPeople();
    this.renderTopbar();
    this.layout();
  }

  onParticipantUpdated(message) {
    const view = message.participant;
    if (this.self && view.id === this.self.id) {
      const wasHand = this.self.hand_raised;
      this.self.hand_raised = !!view.hand_raised;
      if (message.moderated) {
        if (view.audio_muted && this.local.audioOn) {
          this.local.setAudio(false);
          this.toast(t('room.muted_by_moderator'), 'warn');
        }
        if (view.video_muted && this.local.videoOn && !this.local.screenTrack) {
          this.local.setVideo(false).then(() => this.publisher?.setTrack('video', null));
          this.toast(t('room.video_stopped_by_moderator'), 'warn');
        }
      }
      this.self.audio_muted = view.audio_muted;
      this.self.video_muted = view.video_muted;
      if (wasHand !== this.self.hand_raised) this.renderControls();
      this.renderSelf();
      this.renderPeople();
      return;
    }
    const existing = this.participants.get(view.id);
    if (existing && view.hand_raised && !existing.hand_raised) {
      this.toast(t('room.hand_raised_toast', { name: existing.name }));
    }
    const update = Object.fromEntries(Object.entries(view).filter(([key, v]) => v !== undefined && !(key === 'name' && !v)));
    this.upsertParticipant({ ...existing, ...update });
  }

  onParticipantLeft(message) {
    const participant = this.participants.get(message.participant_id);
    if (!participant) return;
    this.participants.delete(message.participant_id);
    this.levels.unwatch(message.participant_id);
    this.removeTile(participant);
    for (const [feed, owner] of this.feeds) if (owner === message.participant_id) this.feeds.delete(feed);
    if (message.reason === 'kicked') this.toast(t('room.removed_toast', { name: participant.name }));
    else this.announce(t('room.left_toast', { name: participant.name }));
    this.renderPeople();
    this.renderTopbar();
    this.layout();
  }

  onFeedUnpublished(message) {
    this.feeds.delete(message.feed_id);
    const participant = this.participants.get(message.participant_id);
    if (participant) {
      participant.audio = null;
      participant.video = null;
      participant.publishing = false;
      this.renderTile(participant);
    }
  }

  onParticipantWaiting(view) {
    this.waiting.set(view.id, view);
    this.renderPeople();
    this.toast(t('room.waiting_toast', { name: view.name }), 'info', [
      { label: t('people.admit'), run: () => this.decide(view.id, true) },
      { label: t('people.deny'), run: () => this.decide(view.id, false) },
    ]);
  }

  async decide(waiterId, admit) {
    this.waiting.delete(waiterId);
    this.renderPeople();
    try {
      await this.signaling.request({ type: 'moderate', action: admit ? 'admit' : 'deny', participant_id: waiterId });
    } catch (error) {
      if (error.code !== 'not_waiting') this.toast(t('room.error', { message: error.message }), 'warn');
    }
  }

  onRoomUpdated(message) {
    this.locked = !!message.is_locked;
    this.toast(this.locked ? t('room.locked_toast') : t('room.unlocked_toast'));
    this.renderTopbar();
    this.renderPeople();
  }

  setRecording(recording) {
    this.recording = recording;
    this.renderTopbar();
    this.renderPeople();
  }

  async toggleRecording() {
    try {
      await this.signaling.request({ type: 'recording', action: this.recording ? 'stop' : 'start' });
    } catch (error) {
      this.toast(t('room.error', { message: error.message }), 'warn');
    }
  }

  // -- actions ---------------------------------------------------------------------------------

  async toggleMic() {
    const on = !this.local.audioOn;
    const hadTrack = this.local.audioTrack;
    const result = await this.local.setAudio(on);
    if (on && !result) this.toast(t('join.device_error'), 'warn');
    if (this.local.audioTrack !== hadTrack) await this.publisher?.setTrack('audio', this.local.audioTrack);
    this.sendMuteState();
    this.renderControls();
    this.renderSelf();
  }

  async toggleCamera() {
    const on = !this.local.videoOn;
    const result = await this.local.setVideo(on);
    if (on && !result) this.toast(t('join.device_error'), 'warn');
    if (!this.local.screenTrack) await this.publisher?.setTrack('video', this.local.videoTrack);
    this.sendMuteState();
    this.renderControls();
    this.renderSelf();
  }

  async toggleScreenShare() {
    if (this.local.screenTrack) {
      await this.stopScreenShare();
      return;
    }
    let track;
    try {
      track = await this.local.startScreen();
    } catch (error) {
      if (error.name !== 'NotAllowedError') this.toast(t('room.screen_failed'), 'warn');
      return;
    }
    if (this.publisher?.video) {
      await this.publisher.setTrack('video', track);
      this.sendMuteState();
    } else if (!this.permissions.broadcast) {
      await this.publish();
    }
    this.renderControls();
    this.renderSelf();
  }

  async stopScreenShare() {
    this.local.stopScreen();
    if (this.publisher?.screenOnly) {
      const old = this.publisher;
      this.publisher = null;
      old.close();
      try { await this.signaling.request({ type: 'unpublish' }); } catch { /* gone */ }
    } else if (this.publisher) {
      await this.publisher.setTrack('video', this.local.videoTrack);
      this.sendMuteState();
    }
    this.renderControls();
    this.renderSelf();
  }

  toggleHand() {
    const raised = !this.self?.hand_raised;
    this.signaling.request({ type: 'hand', raised }).catch((error) => this.toast(error.message, 'warn'));
  }

  react(emoji) {
    this.signaling.request({ type: 'reaction', emoji }).catch((error) => this.toast(error.message, 'warn'));
    this.closePopover();
  }

  async sendChat(text, to) {
    try {
      await this.signaling.request({ type: 'chat', message: text, ...(to ? { to } : {}) });
      return true;
    } catch (error) {
      this.toast(t('room.error', { message: error.message }), 'warn');
      return false;
    }
  }

  async moderate(action, participantId, extra = {}) {
    try {
      await this.signaling.request({ type: 'moderate', action, ...(participantId ? { participant_id: participantId } : {}), ...extra });
    } catch (error) {
      this.toast(t('room.error', { message: error.message }), 'warn');
    }
  }

  // -- interface -------------------------------------------------------------------------------

  buildRoom() {
    const toolbar = this.settings.toolbar || { position: 'bottom', visible: true };
    const position = ['bottom', 'top', 'left', 'right'].includes(toolbar.position) ? toolbar.position : 'bottom';
    const ui = {};
    ui.grid = h('div', { class: 'grid', role: 'list', 'aria-label': t('room.videos') });
    ui.reactions = h('div', { class: 'reactions-layer', 'aria-hidden': 'true' });
    ui.banner = h('div', { class: 'banner', role: 'status', hidden: true });
    ui.soundPrompt = h('button', { type: 'button', class: 'sound-prompt', hidden: true, onclick: () => this.unlockAudio() },
      icon('volume'), t('room.enable_sound'));
    ui.audio = h('div', { class: 'audio-sinks', hidden: true });
    const watermark = this.settings.watermark_enabled
      ? h('div', { class: 'watermark', 'aria-hidden': 'true' },
        Array.from({ length: 24 }, () => h('span', { text: this.settings.watermark_text || this.self?.name || '' })))
      : null;
    ui.stage = h('main', { class: 'stage', 'aria-label': t('room.stage') }, ui.grid, watermark, ui.reactions, ui.banner, ui.soundPrompt);
    ui.panel = h('aside', { class: 'panel', hidden: true, 'aria-labelledby': 'panel-title' });
    ui.captions = h('div', { class: 'captions', role: 'region', 'aria-label': t('room.captions'), 'aria-live': 'polite' });
    ui.toolbar = h('nav', { class: 'toolbar', 'aria-label': t('room.controls'), hidden: toolbar.visible === false });
    ui.topbar = h('header', { class: 'topbar', hidden: this.settings.topbar_enabled === false });
    ui.toasts = h('div', { class: 'toasts', 'aria-live': 'polite' });
    ui.live = h('div', { class: 'sr-only', 'aria-live': 'polite' });
    ui.dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' });
    ui.messages = h('ol', { class: 'messages', role: 'log', 'aria-label': t('chat.title'), 'aria-live': 'polite' });
    ui.peopleList = h('div', { class: 'people' });
    ui.root = h('div', { class: `room toolbar-${position}` },
      ui.topbar,
      h('div', { class: 'room-body' }, ui.stage, ui.panel),
      ui.captions, ui.toolbar, ui.toasts, ui.live, ui.dialog, ui.audio);
    this.ui = ui;
    this.content.attach(ui);
    clear(this.root).append(ui.root);
    new ResizeObserver(() => this.layout()).observe(ui.stage);
    this.keyHandler = (event) => this.onKey(event);
    window.addEventListener('keydown', this.keyHandler);
    if (this.settings.connection_quality_indicator_enabled) {
      this.quality = new QualityMonitor(() => [this.publisher?.pc, this.subscriber?.pc], (report) => {
        this.qualityReport = report;
        this.renderTopbar();
      });
    }
    this.local.addEventListener('change', () => { this.renderSelf(); this.renderControls(); });
    this.renderTopbar();
    this.renderControls();
  }

  onKey(event) {
    if (event.key === 'Escape') {
      if (this.popover) { this.closePopover(); event.preventDefault(); return; }
      if (this.panel && this.ui.panel.contains(document.activeElement)) { this.openPanel(null); event.preventDefault(); }
    }
  }

  renderAll() {
    this.renderTopbar();
    this.renderControls();
    this.renderSelf();
    for (const participant of this.participants.values()) this.renderTile(participant);
    this.renderPeople();
    this.layout();
  }

  renderTopbar() {
    if (!this.ui) return;
    const bar = clear(this.ui.topbar);
    const logo = this.settings.logo_url
      ? h('img', { class: 'logo', src: this.settings.logo_url, alt: '' })
      : h('span', { class: 'logo mark' }, icon('logo'));
    bar.append(logo, h('div', { class: 'room-title' },
      h('h1', { text: this.config.room.name }),
      this.locked ? h('span', { class: 'pill', title: t('room.locked') }, icon('lock'), t('room.locked')) : null));
    bar.append(h('div', { class: 'spacer' }));
    if (this.recording) {
      bar.append(h('span', { class: 'pill rec', role: 'status' }, h('span', { class: 'rec-dot', 'aria-hidden': 'true' }), t('room.recording')));
    }
    if (this.quality) {
      const report = this.qualityReport || { level: 'unknown', rtt: null, loss: 0 };
      const label = t('quality.label', {
        level: t(`quality.${report.level}`), rtt: report.rtt ?? '–', loss: report.loss ?? 0,
      });
      bar.append(h('span', { class: `quality q-${report.level}`, role: 'img', 'aria-label': label, title: label },
        h('i'), h('i'), h('i'), h('i')));
    }
    const count = this.participants.size + 1;
    bar.append(h('span', { class: 'pill count', title: t('people.title') }, icon('users'), String(count)));
  }

  renderControls() {
    if (!this.ui) return;
    const bar = clear(this.ui.toolbar);
    const can = this.permissions;
    const group = h('div', { class: 'ctl-group' });
    if (can.broadcast) {
      group.append(button({
        label: this.local.audioOn ? t('ctl.mute') : t('ctl.unmute'), text: t('ctl.mic'),
        iconName: this.local.audioOn ? 'mic' : 'micOff', className: this.local.audioOn ? '' : 'off',
        pressed: !this.local.audioOn, onClick: () => this.toggleMic(), id: 'ctl-mic',
      }));
      if (this.config.room.kind !== 'audio') {
        group.append(button({
          label: this.local.videoOn ? t('ctl.camera_off') : t('ctl.camera_on'), text: t('ctl.camera'),
          iconName: this.local.videoOn ? 'cam' : 'camOff', className: this.local.videoOn ? '' : 'off',
          pressed: !this.local.videoOn, onClick: () => this.toggleCamera(), id: 'ctl-camera',
        }));
      }
    }
    if (this.settings.screenshare_enabled && can.screenshare && navigator.mediaDevices?.getDisplayMedia
      && this.config.room.kind !== 'audio') {
      const sharing = !!this.local.screenTrack;
      group.append(button({
        label: sharing ? t('ctl.stop_share') : t('ctl.share'), text: t('ctl.share_short'), iconName: 'screen',
        className: sharing ? 'active' : '', pressed: sharing, onClick: () => this.toggleScreenShare(), id: 'ctl-share',
      }));
    }
    if (this.settings.raise_hand_enabled && can.raise_hand) {
      const raised = !!this.self?.hand_raised;
      group.append(button({
        label: raised ? t('ctl.lower_hand') : t('ctl.raise_hand'), text: t('ctl.hand'), iconName: 'hand',
        className: raised ? 'active' : '', pressed: raised, onClick: () => this.toggleHand(), id: 'ctl-hand',
      }));
    }
    if (this.settings.room_reactions_enabled && can.emoji_reactions) {
      const react = button({ label: t('ctl.react'), iconName: 'smile', id: 'ctl-react', onClick: () => this.openReactions(react) });
      react.setAttribute('aria-haspopup', 'true');
      react.setAttribute('aria-expanded', 'false');
      group.append(react);
    }
    const side = h('div', { class: 'ctl-group' });
    side.append(button({
      label: t('people.title'), text: t('ctl.people'), iconName: 'users', id: 'ctl-people',
      className: this.panel === 'people' ? 'active' : '', pressed: this.panel === 'people',
      onClick: () => this.openPanel(this.panel === 'people' ? null : 'people'),
    }));
    if (this.settings.chat_enabled && can.chat) {
      const chat = button({
        label: t('chat.title'), text: t('ctl.chat'), iconName: 'chat', id: 'ctl-chat',
        className: this.panel === 'chat' ? 'active' : '', pressed: this.panel === 'chat',
        onClick: () => this.openPanel(this.panel === 'chat' ? null : 'chat'),
      });
      if (this.unread > 0) chat.append(h('span', { class: 'badge', 'aria-label': t('chat.unread', { count: this.unread }), text: String(this.unread) }));
      side.append(chat);
    }
    if (this.content.qaAvailable) {
      const qa = button({
        label: t('qa.title'), text: t('ctl.qa'), iconName: 'qa', id: 'ctl-qa',
        className: this.panel === 'qa' ? 'active' : '', pressed: this.panel === 'qa',
        onClick: () => this.openPanel(this.panel === 'qa' ? null : 'qa'),
      });
      const unread = this.content.qaUnread;
      if (unread > 0) qa.append(h('span', { class: 'badge', 'aria-label': t('qa.unread', { count: unread }), text: String(unread) }));
      side.append(qa);
    }
    if (this.content.pollsAvailable) {
      const polls = button({
        label: t('content.title'), text: t('ctl.polls'), iconName: 'poll', id: 'ctl-polls',
        className: this.panel === 'polls' ? 'active' : '', pressed: this.panel === 'polls',
        onClick: () => this.openPanel(this.panel === 'polls' ? null : 'polls'),
      });
      const unread = this.content.pollsUnread;
      if (unread > 0) polls.append(h('span', { class: 'badge', 'aria-label': t('content.unread', { count: unread }), text: String(unread) }));
      side.append(polls);
    }
    const leave = button({ label: t('ctl.leave'), iconName: 'leave', className: 'danger', id: 'ctl-leave', onClick: () => this.confirmLeave() });
    bar.append(group, side, h('div', { class: 'ctl-group' }, leave));
  }

  confirmLeave() {
    if (!this.permissions.end_session) {
      this.leave();
      return;
    }
    this.showDialog({
      title: t('leave.title'), text: t('leave.text'),
      actions: [
        { label: t('leave.end_for_all'), className: 'danger', run: () => this.moderate('end_session') },
        { label: t('leave.just_me'), className: 'primary', run: () => this.leave() },
      ],
    });
  }

  showDialog({ title, text, actions }) {
    const dialog = this.ui.dialog;
    clear(dialog);
    const cancel = h('button', { type: 'button', class: 'btn ghost', text: t('action.cancel'), onclick: () => dialog.close() });
    dialog.append(
      h('h2', { id: 'dialog-title', text: title }),
      text ? h('p', { text }) : null,
      h('div', { class: 'dialog-actions' }, cancel,
        actions.map((action) => h('button', {
          type: 'button', class: `btn ${action.className || ''}`, text: action.label,
          onclick: () => { dialog.close(); action.run(); },
        }))),
    );
    dialog.showModal();
    dialog.querySelector('.dialog-actions .btn:last-child')?.focus();
  }

  openReactions(anchor) {
    if (this.popover) { this.closePopover(); return; }
    const pop = h('div', { class: 'popover', role: 'menu', 'aria-label': t('ctl.react') },
      REACTIONS.map((emoji) => h('button', {
        type: 'button', role: 'menuitem', class: 'emoji', 'aria-label': t('reaction.send', { emoji }), text: emoji,
        onclick: () => this.react(emoji),
      })));
    anchor.setAttribute('aria-expanded', 'true');
    anchor.after(pop);
    this.popover = { el: pop, anchor };
    pop.querySelector('button')?.focus();
    pop.addEventListener('keydown', (event) => {
      const items = [...pop.querySelectorAll('button')];
      const index = items.indexOf(document.activeElement);
      if (event.key === 'ArrowRight' || event.key === 'ArrowDown') { items[(index + 1) % items.length].focus(); event.preventDefault(); }
      if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') { items[(index - 1 + items.length) % items.length].focus(); event.preventDefault(); }
    });
    setTimeout(() => document.addEventListener('click', this.outsideClick = (event) => {
      if (!pop.contains(event.target) && event.target !== anchor) this.closePopover();
    }), 0);
  }

  closePopover() {
    if (!this.popover) return;
    const { el, anchor } = this.popover;
    el.remove();
    anchor.setAttribute('aria-expanded', 'false');
    if (document.activeElement === document.body || !document.activeElement) anchor.focus();
    document.removeEventListener('click', this.outsideClick);
    this.popover = null;
  }

  openPanel(name) {
    this.panel = name;
    const panel = this.ui.panel;
    clear(panel);
    panel.hidden = !name;
    panel.classList.remove('content-panel');
    this.ui.root.classList.toggle('with-panel', !!name);
    this.content.onPanelChanged();
    if (name) {
      const close = h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('action.close_panel'), title: t('action.close_panel'), onclick: () => this.openPanel(null) }, icon('close'));
      const titles = { chat: t('chat.title'), qa: t('qa.title'), polls: t('content.title') };
      const title = h('h2', { id: 'panel-title', tabindex: '-1', text: titles[name] || t('people.title') });
      panel.append(h('div', { class: 'panel-head' }, title, close));
      if (name === 'chat') {
        this.unread = 0;
        for (const toast of this.ui.toasts.querySelectorAll('.chat-toast')) toast.remove();
        panel.append(this.ui.messages, this.buildComposer());
        this.ui.messages.scrollTop = this.ui.messages.scrollHeight;
        panel.querySelector('textarea')?.focus();
      } else if (name === 'qa') {
        panel.classList.add('content-panel');
        panel.append(...this.content.buildQaPanel());
        panel.querySelector('.qa-input')?.focus();
      } else if (name === 'polls') {
        panel.append(this.content.buildPollsPanel());
        title.focus();
      } else {
        panel.append(this.ui.peopleList);
        this.renderPeople();
        title.focus();
      }
    }
    this.renderControls();
    this.layout();
  }

  // -- chat ------------------------------------------------------------------------------------

  buildComposer() {
    const recipients = h('select', { class: 'recipient', 'aria-label': t('chat.to') },
      h('option', { value: '', text: t('chat.everyone') }),
      [...this.participants.values()].map((p) => h('option', { value: p.id, text: p.name })));
    const input = h('textarea', {
      class: 'chat-input', rows: 1, maxlength: 4000, 'aria-label': t('chat.placeholder'), placeholder: t('chat.placeholder'),
    });
    const send = h('button', { type: 'submit', class: 'icon-btn primary', 'aria-label': t('chat.send'), title: t('chat.send') }, icon('send'));
    const form = h('form', { class: 'composer' }, h('label', { class: 'to-label' }, h('span', { text: t('chat.to') }), recipients),
      h('div', { class: 'compose-row' }, input, send));
    const submit = async () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      if (!(await this.sendChat(text, recipients.value || null))) input.value = text;
      input.focus();
    };
    form.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); submit(); }
    });
    return form;
  }

  onChatMessage(message, live) {
    this.chat.push(message);
    const mine = this.self && message.participant_id === this.self.id;
    const sender = message.participant_name || t('chat.system');
    let privateNote = null;
    if (message.private) {
      const other = mine ? this.participants.get(message.to)?.name || '' : sender;
      privateNote = h('span', { class: 'private', text: mine ? t('chat.private_to', { name: other }) : t('chat.private_from') });
    }
    const item = h('li', { class: `message${mine ? ' mine' : ''}${message.private ? ' is-private' : ''}` },
      h('div', { class: 'meta' }, h('strong', { text: mine ? t('chat.you') : sender }), privateNote,
        h('time', { datetime: message.created_at, text: formatTime(message.created_at) })),
      h('p', { text: message.message }));
    this.ui.messages.append(item);
    this.ui.messages.scrollTop = this.ui.messages.scrollHeight;
    if (live && !mine && this.panel !== 'chat') {
      this.unread += 1;
      this.renderControls();
      this.toast(`${sender}: ${message.message.slice(0, 80)}`, 'info chat-toast', [{ label: t('chat.open'), run: () => this.openPanel('chat') }]);
    }
  }

  // -- people ----------------------------------------------------------------------------------

  renderPeople() {
    if (!this.ui) return;
    const list = clear(this.ui.peopleList);
    const can = this.permissions;
    const canRecord = can.recording && this.settings.recordings_enabled;
    if (can.lock_room || canRecord) {
      const actions = h('div', { class: 'people-actions' });
      if (can.lock_room) {
        actions.append(h('button', {
          type: 'button', class: 'btn small', 'aria-pressed': String(this.locked),
          onclick: () => this.moderate(this.locked ? 'unlock' : 'lock'),
        }, icon(this.locked ? 'lock' : 'unlock'), this.locked ? t('people.unlock') : t('people.lock')));
      }
      if (canRecord) {
        actions.append(h('button', {
          type: 'button', class: `btn small${this.recording ? ' danger' : ''}`, 'aria-pressed': String(!!this.recording),
          onclick: () => this.toggleRecording(),
        }, h('span', { class: 'rec-dot', 'aria-hidden': 'true' }),
        this.recording ? t('people.record_stop') : t('people.record_start')));
      }
      list.append(actions);
    }
    if (can.admit_participants && this.waiting.size) {
      list.append(h('h3', { text: t('people.waiting', { count: this.waiting.size }) }));
      const ul = h('ul', { class: 'people-list waiting-list' });
      for (const waiter of this.waiting.values()) {
        ul.append(h('li', { class: 'person', dataset: { waiterName: waiter.name } },
          this.avatar(waiter.id, waiter.name, 'small'),
          h('span', { class: 'person-name', text: waiter.name }),
          h('span', { class: 'person-actions' },
            h('button', { type: 'button', class: 'btn small primary', text: t('people.admit'), 'aria-label': t('people.admit_name', { name: waiter.name }), onclick: () => this.decide(waiter.id, true) }),
            h('button', { type: 'button', class: 'btn small ghost', text: t('people.deny'), 'aria-label': t('people.deny_name', { name: waiter.name }), onclick: () => this.decide(waiter.id, false) }))));
      }
      list.append(ul);
    }
    list.append(h('h3', { text: t('people.in_meeting', { count: this.participants.size + 1 }) }));
    const ul = h('ul', { class: 'people-list' });
    const everyone = [...this.participants.values()].sort((a, b) => (b.hand_raised - a.hand_raised) || a.name.localeCompare(b.name));
    if (this.self) ul.append(this.personRow({ ...this.self, audio_muted: !this.local.audioOn }, true));
    for (const participant of everyone) ul.append(this.personRow(participant, false));
    list.append(ul);
    if (this.panel === 'chat') {
      const select = this.ui.panel.querySelector('select.recipient');
      if (select) {
        const chosen = select.value;
        clear(select).append(h('option', { value: '', text: t('chat.everyone') }),
          [...this.participants.values()].map((p) => h('option', { value: p.id, text: p.name })));
        select.value = this.participants.has(chosen) ? chosen : '';
      }
    }
  }

  personRow(participant, isSelf) {
    const can = this.permissions;
    const actions = h('span', { class: 'person-actions' });
    if (!isSelf && can.mute_participants && !participant.audio_muted) {
      actions.append(h('button', {
        type: 'button', class: 'icon-btn small', 'aria-label': t('people.mute_name', { name: participant.name }),
        title: t('people.mute_name', { name: participant.name }),
        onclick: () => this.moderate('mute', participant.id, { audio: true }),
      }, icon('micOff')));
    }
    if (!isSelf && can.mute_participants && !participant.video_muted && this.config.room.kind !== 'audio') {
      actions.append(h('button', {
        type: 'button', class: 'icon-btn small', 'aria-label': t('people.stop_video_name', { name: participant.name }),
        title: t('people.stop_video_name', { name: participant.name }),
        onclick: () => this.moderate('mute', participant.id, { video: true }),
      }, icon('camOff')));
    }
    if (!isSelf && can.remove_participants) {
      actions.append(h('button', {
        type: 'button', class: 'icon-btn small danger', 'aria-label': t('people.remove_name', { name: participant.name }),
        title: t('people.remove_name', { name: participant.name }),
        onclick: () => this.showDialog({
          title: t('people.remove_title', { name: participant.name }), text: t('people.remove_text'),
          actions: [{ label: t('people.remove'), className: 'danger', run: () => this.moderate('kick', participant.id) }],
        }),
      }, icon('remove')));
    }
    const state = h('span', { class: 'person-state' },
      participant.hand_raised ? h('span', { class: 'hand', role: 'img', 'aria-label': t('people.hand_raised'), text: '✋' }) : null,
      participant.audio_muted ? h('span', { class: 'muted-icon', role: 'img', 'aria-label': t('people.muted') }, icon('micOff')) : null);
    return h('li', { class: 'person', dataset: { participantId: participant.id, participantName: participant.name } },
      this.avatar(participant.id, participant.name, 'small'),
      h('span', { class: 'person-name' },
        h('span', { class: 'person-line' }, participant.name, isSelf ? h('span', { class: 'muted', text: ` (${t('chat.you')})` }) : null),
        h('span', { class: 'role', text: participant.role || '' })),
      state, actions);
  }

  avatar(id, name, size = '') {
    const el = h('span', { class: `avatar ${size}`.trim(), 'aria-hidden': 'true', text: initials(name) });
    el.style.setProperty('--hue', String(hueFor(id)));
    return el;
  }

  // -- tiles -----------------------------------------------------------------------------------

  ensureTile(participant, isSelf) {
    if (participant.tile) return participant.tile;
    const video = h('video', { autoplay: true, playsInline: true, muted: true });
    video.muted = true;
    const avatar = h('div', { class: 'tile-avatar' }, this.avatar(participant.id, participant.name, 'large'));
    const nameEl = h('span', { class: 'name' });
    const mic = h('span', { class: 'mic-state' });
    const hand = h('span', { class: 'tile-hand', role: 'img', 'aria-label': t('people.hand_raised'), text: '✋', hidden: true });
    const tile = h('div', { class: `tile${isSelf ? ' self' : ''}`, role: 'listitem', dataset: { participantId: participant.id } },
      video, avatar, hand, h('div', { class: 'tile-info' }, mic, nameEl));
    tile.refs = { video, avatar, nameEl, mic, hand };
    participant.tile = tile;
    if (isSelf) this.ui.grid.prepend(tile);
    else this.ui.grid.append(tile);
    return tile;
  }

  removeTile(participant) {
    participant.tile?.remove();
    participant.audioEl?.remove();
    participant.tile = null;
    participant.audioEl = null;
  }

  renderTile(participant) {
    if (!this.ui || !this.participants.has(participant.id)) return;
    const tile = this.ensureTile(participant, false);
    const { video, nameEl, mic, hand } = tile.refs;
    tile.dataset.participantName = participant.name;
    nameEl.textContent = participant.name;
    const videoTrack = participant.video;
    if (videoTrack) {
      if (video.srcObject?.getVideoTracks()[0] !== videoTrack) {
        video.srcObject = new MediaStream([videoTrack]);
        video.play().catch(() => {});
        videoTrack.onmute = videoTrack.onunmute = () => this.renderTile(participant);
      }
    } else if (video.srcObject) {
      video.srcObject = null;
    }
    const showVideo = !!videoTrack && !participant.video_muted && !videoTrack.muted;
    tile.classList.toggle('has-video', showVideo);
    mic.replaceChildren(icon(participant.audio_muted ? 'micOff' : 'mic'));
    mic.classList.toggle('is-muted', !!participant.audio_muted);
    mic.setAttribute('role', 'img');
    mic.setAttribute('aria-label', participant.audio_muted ? t('people.muted') : t('people.unmuted'));
    hand.hidden = !participant.hand_raised;
    this.attachAudio(participant);
  }

  attachAudio(participant) {
    const track = participant.audio;
    if (!track) {
      if (participant.audioEl) participant.audioEl.srcObject = null;
      this.levels.unwatch(participant.id);
      return;
    }
    if (!participant.audioEl) {
      participant.audioEl = h('audio', { autoplay: true });
      this.ui.audio.append(participant.audioEl);
    }
    const el = participant.audioEl;
    if (el.srcObject?.getAudioTracks()[0] !== track) {
      el.srcObject = new MediaStream([track]);
      el.play().catch(() => { this.ui.soundPrompt.hidden = false; });
    }
    this.levels.watch(participant.id, track);
  }

  unlockAudio() {
    this.levels.ensureContext();
    for (const participant of this.participants.values()) participant.audioEl?.play().catch(() => {});
    this.ui.soundPrompt.hidden = true;
  }

  renderSelf() {
    if (!this.ui || !this.self) return;
    const me = this.self;
    const tile = this.ensureTile(me, true);
    const { video, nameEl, mic, hand } = tile.refs;
    tile.dataset.participantName = me.name;
    nameEl.textContent = `${me.name} (${t('chat.you')})`;
    const track = this.local.outgoingVideo;
    if (track) {
      if (video.srcObject?.getVideoTracks()[0] !== track) {
        video.srcObject = new MediaStream([track]);
        video.play().catch(() => {});
      }
    } else {
      video.srcObject = null;
    }
    tile.classList.toggle('has-video', !!track);
    tile.classList.toggle('mirrored', !!track && !this.local.screenTrack);
    tile.classList.toggle('presenting', !!this.local.screenTrack);
    const muted = !this.local.audioOn;
    mic.replaceChildren(icon(muted ? 'micOff' : 'mic'));
    mic.classList.toggle('is-muted', muted);
    mic.setAttribute('role', 'img');
    mic.setAttribute('aria-label', muted ? t('people.muted') : t('people.unmuted'));
    hand.hidden = !me.hand_raised;
    this.levels.watch(me.id, this.local.audioOn ? this.local.audioTrack : null);
  }

  renderSpeaking() {
    if (!this.ui) return;
    for (const tile of this.ui.grid.children) {
      const id = tile.dataset.participantId;
      tile.classList.toggle('speaking', id === this.levels.active);
      tile.style.setProperty('--level', Math.min(1, this.levels.level(id) * 12).toFixed(2));
    }
  }

  layout() {
    if (!this.ui) return;
    const grid = this.ui.grid;
    const count = grid.children.length;
    if (!count) return;
    const width = grid.clientWidth;
    const height = grid.clientHeight;
    const gap = 12;
    let best = { cols: 1, w: 0 };
    for (let cols = 1; cols <= count; cols++) {
      const rows = Math.ceil(count / cols);
      let w = (width - gap * (cols - 1)) / cols;
      let hgt = w * 9 / 16;
      if (hgt * rows + gap * (rows - 1) > height) {
        hgt = (height - gap * (rows - 1)) / rows;
        w = hgt * 16 / 9;
      }
      if (w > best.w) best = { cols, w };
    }
    grid.style.setProperty('--tile-w', `${Math.max(120, Math.floor(best.w))}px`);
  }

  // -- transient UI ----------------------------------------------------------------------------

  showReaction(participantId, emoji) {
    if (!this.ui) return;
    const tile = [...this.ui.grid.children].find((el) => el.dataset.participantId === participantId);
    const stageBox = this.ui.stage.getBoundingClientRect();
    let left = stageBox.width / 2;
    let bottom = 24;
    if (tile) {
      const box = tile.getBoundingClientRect();
      left = box.left - stageBox.left + 24 + Math.random() * Math.max(0, box.width - 80);
      bottom = stageBox.bottom - box.bottom + 40;
    }
    const bubble = h('span', { class: 'reaction', text: emoji });
    bubble.style.left = `${left}px`;
    bubble.style.bottom = `${bottom}px`;
    this.ui.reactions.append(bubble);
    setTimeout(() => bubble.remove(), 3200);
    const who = participantId === this.self?.id ? t('chat.you') : this.participants.get(participantId)?.name;
    if (who) this.announce(t('reaction.announce', { name: who, emoji }));
  }

  onCaption(message) {
    const key = message.participant_id || message.participant_name || 'caption';
    const entry = this.captions.get(key) || {};
    clearTimeout(entry.timer);
    const next = { name: message.participant_name, text: message.text, final: !!message.final, at: Date.now() };
    next.timer = setTimeout(() => { this.captions.delete(key); this.renderCaptions(); }, message.final ? 6000 : 10000);
    this.captions.delete(key);
    this.captions.set(key, next);
    this.renderCaptions();
  }

  renderCaptions() {
    const box = clear(this.ui.captions);
    const lines = [...this.captions.values()].slice(-3);
    box.classList.toggle('has-text', lines.length > 0);
    for (const line of lines) {
      box.append(h('p', { class: line.final ? 'final' : 'partial' },
        line.name ? h('strong', { text: `${line.name}: ` }) : null, line.text));
    }
  }

  setBanner(text) {
    if (!this.ui) return;
    this.ui.banner.hidden = !text;
    this.ui.banner.replaceChildren(text ? h('span', { class: 'spinner small', 'aria-hidden': 'true' }) : '', text || '');
  }

  announce(text) {
    if (!this.ui) return;
    this.ui.live.textContent = text;
  }

  toast(text, kind = 'info', actions = []) {
    if (!this.ui) return;
    const el = h('div', { class: `toast ${kind}`, role: kind.startsWith('warn') ? 'alert' : 'status' },
      h('span', { class: 'toast-text', text }),
      actions.map((action) => h('button', {
        type: 'button', class: 'btn small', text: action.label,
        onclick: () => { el.remove(); action.run(); },
      })),
      h('button', { type: 'button', class: 'icon-btn small', 'aria-label': t('action.dismiss'), onclick: () => el.remove() }, icon('close')));
    this.ui.toasts.append(el);
    while (this.ui.toasts.children.length > 4) this.ui.toasts.firstChild.remove();
    setTimeout(() => el.remove(), actions.length ? 15000 : 5000);
  }
}
