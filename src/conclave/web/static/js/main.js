// Entry point of the meeting page: configuration, branding, join screen and the status screens.

import { clear, h, hueFor, icon, initials } from './dom.js';
import { setStrings, t } from './i18n.js';
import { AudioLevels } from './levels.js';
import { LocalMedia } from './media.js';
import { Meeting } from './meeting.js';

const config = JSON.parse(document.getElementById('conclave-config').textContent);
setStrings(config.strings);
const settings = config.room.settings || {};
const app = document.getElementById('app');
const local = new LocalMedia();
const canBroadcast = !!config.permissions.broadcast;
const audioRoom = config.room.kind === 'audio';

function luminance(hex) {
  const value = hex.replace('#', '');
  const full = value.length === 3 ? [...value].map((c) => c + c).join('') : value.slice(0, 6);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function applyBranding() {
  const style = document.documentElement.style;
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
  if (settings.primary_color && hex.test(settings.primary_color)) {
    style.setProperty('--accent', settings.primary_color);
    style.setProperty('--accent-contrast', luminance(settings.primary_color) > 0.45 ? '#0b0d12' : '#ffffff');
  }
  if (settings.background_color && hex.test(settings.background_color)) {
    style.setProperty('--stage-bg', settings.background_color);
    document.documentElement.classList.toggle('light-stage', luminance(settings.background_color) > 0.45);
  }
  document.title = `${config.room.name} · Conclave`;
}

function logo() {
  if (settings.logo_url) return h('img', { class: 'brand-logo', src: settings.logo_url, alt: '' });
  return h('span', { class: 'brand-logo mark' }, icon('logo'));
}

function show(...children) {
  clear(app).append(...children);
}

function deviceErrorText(error) {
  if (!error) return '';
  if (error.name === 'NotAllowedError' || error.name === 'SecurityError') return t('join.device_blocked');
  if (error.name === 'NotFoundError' || error.name === 'OverconstrainedError') return t('join.device_missing');
  return t('join.device_error');
}

// -- join screen ---------------------------------------------------------------------------------

async function joinScreen({ nameOnly = false } = {}) {
  const params = new URLSearchParams(location.search);
  const withDevices = canBroadcast && !nameOnly;
  const levels = new AudioLevels(() => {
    meter.style.setProperty('--level', Math.min(1, levels.level('self') * 12).toFixed(2));
  });
  const video = h('video', { autoplay: true, playsInline: true, muted: true });
  video.muted = true;
  const nameInput = h('input', {
    id: 'join-name', name: 'name', type: 'text', required: true, maxlength: 100, autocomplete: 'name',
    value: params.get('name') || config.name || '', placeholder: t('join.name_placeholder'),
  });
  const avatar = h('span', { class: 'avatar large', 'aria-hidden': 'true' });
  const updateAvatar = () => {
    avatar.textContent = initials(nameInput.value || '?');
    avatar.style.setProperty('--hue', String(hueFor(nameInput.value)));
  };
  nameInput.addEventListener('input', updateAvatar);
  updateAvatar();
  const meter = h('div', { class: 'level-meter', 'aria-hidden': 'true' }, h('i'));
  const micButton = h('button', { type: 'button', class: 'ctl round', id: 'join-mic' });
  const camButton = h('button', { type: 'button', class: 'ctl round', id: 'join-camera' });
  const micSelect = h('select', { id: 'join-mic-select' });
  const camSelect = h('select', { id: 'join-camera-select' });
  const notice = h('p', { class: 'notice', role: 'status', hidden: true });
  const preview = h('div', { class: 'preview' }, video, h('div', { class: 'preview-avatar' }, avatar), meter,
    h('div', { class: 'preview-controls' }, micButton, audioRoom ? null : camButton));

  const render = () => {
    preview.classList.toggle('has-video', local.videoOn);
    video.srcObject = local.videoTrack ? new MediaStream([local.videoTrack]) : null;
    if (local.videoTrack) video.play().catch(() => {});
    micButton.replaceChildren(icon(local.audioOn ? 'mic' : 'micOff'));
    micButton.classList.toggle('off', !local.audioOn);
    micButton.setAttribute('aria-pressed', String(!local.audioOn));
    micButton.setAttribute('aria-label', local.audioOn ? t('ctl.mute') : t('ctl.unmute'));
    micButton.title = micButton.getAttribute('aria-label');
    camButton.replaceChildren(icon(local.videoOn ? 'cam' : 'camOff'));
    camButton.classList.toggle('off', !local.videoOn);
    camButton.setAttribute('aria-pressed', String(!local.videoOn));
    camButton.setAttribute('aria-label', local.videoOn ? t('ctl.camera_off') : t('ctl.camera_on'));
    camButton.title = camButton.getAttribute('aria-label');
    levels.watch('self', local.audioOn ? local.audioTrack : null);
    const errorText = deviceErrorText(local.error);
    notice.hidden = !errorText;
    notice.textContent = errorText;
  };

  const fillDevices = async () => {
    const { audio, video: cams } = await local.devices();
    const fill = (select, devices, current, fallback) => {
      clear(select).append(...devices.map((d, i) => h('option', { value: d.deviceId, text: d.label || `${fallback} ${i + 1}` })));
      if (!devices.length) select.append(h('option', { value: '', text: t('join.no_device') }));
      if (current && devices.some((d) => d.deviceId === current)) select.value = current;
      select.disabled = !devices.length;
    };
    fill(micSelect, audio, local.audioDeviceId, t('join.microphone'));
    fill(camSelect, cams, local.videoDeviceId, t('join.camera'));
  };

  micButton.addEventListener('click', async () => { levels.ensureContext(); await local.setAudio(!local.audioOn); render(); fillDevices(); });
  camButton.addEventListener('click', async () => { await local.setVideo(!local.videoOn); render(); fillDevices(); });
  micSelect.addEventListener('change', async () => { await local.chooseDevice('audio', micSelect.value); render(); });
  camSelect.addEventListener('change', async () => { await local.chooseDevice('video', camSelect.value); render(); });

  const join = h('button', { type: 'submit', class: 'btn primary large', id: 'join-button', text: t('join.join') });
  const form = h('form', { class: 'join-form', novalidate: true },
    h('label', { for: 'join-name' }, t('join.name')), nameInput,
    withDevices ? [
      h('label', { for: 'join-camera-select', hidden: audioRoom }, t('join.camera')), audioRoom ? null : camSelect,
      h('label', { for: 'join-mic-select' }, t('join.microphone')), micSelect,
    ] : null,
    notice,
    config.needs_admission ? h('p', { class: 'hint' }, icon('lock'), t('join.locked_hint')) : null,
    !canBroadcast ? h('p', { class: 'hint' }, t('join.viewer_hint')) : null,
    join);

  const heading = h('div', { class: 'join-heading' }, logo(),
    h('div', {}, h('p', { class: 'eyebrow', text: t('join.ready') }), h('h1', { text: config.room.name })));
  const card = h('main', { class: 'join-screen' }, h('div', { class: `join-card${withDevices ? '' : ' compact'}` },
    withDevices ? preview : null,
    h('section', { class: 'join-side', 'aria-labelledby': 'join-title' },
      heading, h('h2', { id: 'join-title', class: 'sr-only', text: t('join.title') }), form)));
  // The handler is in place before the form shows: a click during device set-up waits for it
  // instead of submitting the form natively (which would reload the page).
  let deviceSetup = Promise.resolve();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    if (!name) {
      nameInput.setAttribute('aria-invalid', 'true');
      notice.hidden = false;
      notice.textContent = t('join.name_required');
      nameInput.focus();
      return;
    }
    (async () => {
      await deviceSetup;
      levels.close();
      if (!withDevices && canBroadcast) {
        await local.setAudio(!!settings.audio_on_join_enabled);
        await local.setVideo(!!settings.video_on_join_enabled && !audioRoom);
      }
      await startMeeting(name);
    })();
  });
  show(card);

  if (withDevices) {
    deviceSetup = (async () => {
      await local.setAudio(!!settings.audio_on_join_enabled);
      await local.setVideo(!!settings.video_on_join_enabled && !audioRoom);
      if (!local.audioTrack && !local.videoTrack && !local.error) {
        // Ask once so the device lists carry names, then return to the room's initial state.
        await local.setAudio(true);
        await local.setAudio(!!settings.audio_on_join_enabled);
      }
      render();
      await fillDevices();
    })();
    await deviceSetup;
  }
  nameInput.focus();
}

// -- status screens ------------------------------------------------------------------------------

function statusScreen({ iconName, title, text, actions = [], busy = false, kind = '' }) {
  const buttons = actions.map((action) => h(action.href ? 'a' : 'button', {
    class: `btn ${action.className || ''}`, href: action.href, type: action.href ? undefined : 'button',
    onclick: action.run, id: action.id, text: action.label,
  }));
  const card = h('section', { class: `card status-card ${kind}`, role: busy ? 'status' : 'alert', 'aria-labelledby': 'status-title' },
    busy ? h('div', { class: 'spinner', 'aria-hidden': 'true' }) : icon(iconName, 'card-icon'),
    h('h1', { id: 'status-title', text: title }), text ? h('p', { text }) : null,
    buttons.length ? h('div', { class: 'card-actions' }, buttons) : null);
  show(h('main', { class: 'center-screen', dataset: { screen: kind } }, h('div', { class: 'brand-row' }, logo()), card));
  card.querySelector('.btn')?.focus();
}

function returnAction() {
  return config.return_url ? [{ label: t('action.return'), href: config.return_url, className: 'ghost', id: 'return-link' }] : [];
}

function rejoinAction() {
  return { label: t('action.rejoin'), className: 'primary', run: () => location.reload(), id: 'rejoin-button' };
}

const REFUSAL_TEXT = {
  room_full: 'error.room_full', room_ended: 'error.room_ended', room_expired: 'error.room_ended',
  room_not_open: 'error.room_not_open', token_expired: 'error.token_expired', banned: 'error.banned',
  media_unavailable: 'error.media_unavailable', token_required: 'error.token_required', room_not_found: 'error.room_not_found',
};

function onScreen(kind, detail) {
  if (kind === 'joined') {
    if (!app.contains(meeting.ui.root)) show(meeting.ui.root);
    meeting.layout();
    return;
  }
  if (kind === 'waiting') {
    statusScreen({
      kind: 'waiting', busy: true, title: t('waiting.title'), text: t('waiting.text'),
      actions: [{ label: t('waiting.cancel'), className: 'ghost', run: detail.cancel, id: 'waiting-cancel' }],
    });
    return;
  }
  if (kind === 'left') {
    statusScreen({ kind: 'left', iconName: 'door', title: t('left.title'), text: config.return_url ? t('left.returning') : t('left.text'),
      actions: [rejoinAction(), ...returnAction()] });
    if (config.return_url) setTimeout(() => location.assign(config.return_url), 2500);
    return;
  }
  if (kind === 'kicked') {
    statusScreen({ kind: 'kicked', iconName: 'remove', title: t('kicked.title'), text: t('kicked.text'), actions: returnAction() });
    return;
  }
  if (kind === 'session_ended') {
    const reason = detail.reason && t(`ended.${detail.reason}`) !== `ended.${detail.reason}` ? t(`ended.${detail.reason}`) : t('ended.text');
    statusScreen({ kind: 'ended', iconName: 'door', title: t('ended.title'), text: reason, actions: returnAction() });
    return;
  }
  if (kind === 'denied') {
    statusScreen({ kind: 'denied', iconName: 'lock', title: t('denied.title'), text: t('denied.text'), actions: returnAction() });
    return;
  }
  if (kind === 'replaced') {
    statusScreen({ kind: 'replaced', iconName: 'alert', title: t('replaced.title'), text: t('replaced.text'), actions: [rejoinAction()] });
    return;
  }
  if (kind === 'refused') {
    const key = REFUSAL_TEXT[detail.code] || 'error.generic';
    statusScreen({ kind: `refused ${detail.code}`, iconName: 'alert', title: t(`${key}.title`), text: t(`${key}.text`),
      actions: [{ ...rejoinAction(), label: t('action.try_again') }, ...returnAction()] });
    return;
  }
  statusScreen({ kind: 'failed', iconName: 'alert', title: t('failed.title'), text: t('failed.text'),
    actions: [{ ...rejoinAction(), label: t('action.try_again') }, ...returnAction()] });
}

// -- the meeting ---------------------------------------------------------------------------------

let meeting = null;

async function startMeeting(name) {
  statusScreen({ kind: 'connecting', busy: true, title: t('join.joining') });
  meeting = new Meeting(config, local, { name, onEnd: onScreen, root: app });
  try {
    await meeting.start();
  } catch {
    onScreen('connection_failed', {});
  }
}

function unlockOnGesture() {
  const unlock = () => {
    meeting?.unlockAudio?.();
    window.removeEventListener('pointerdown', unlock);
    window.removeEventListener('keydown', unlock);
  };
  window.addEventListener('pointerdown', unlock);
  window.addEventListener('keydown', unlock);
}

async function boot() {
  applyBranding();
  unlockOnGesture();
  const params = new URLSearchParams(location.search);
  const name = params.get('name') || config.name || '';
  if (settings.join_screen_enabled !== false) {
    await joinScreen();
  } else if (config.name_required && !name) {
    await joinScreen({ nameOnly: true });
  } else {
    if (canBroadcast) {
      await local.setAudio(!!settings.audio_on_join_enabled);
      await local.setVideo(!!settings.video_on_join_enabled && !audioRoom);
    }
    await startMeeting(name);
  }
}

boot();
