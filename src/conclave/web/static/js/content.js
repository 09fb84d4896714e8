// In-meeting content: Q&A, polls and quizzes (docs/content.md). The server does the work and the
// checking (one vote, time limits, permissions); this module keeps what the socket told us and draws it.
//
// Limits of the protocol this page lives with: `joined` carries no questions, polls or quizzes, and
// drafts are not announced on the socket, so the page shows what happens after it joined, and
// moderators launch a prepared poll or quiz by its id.

import { clear, h, icon } from './dom.js';
import { t } from './i18n.js';

function formatTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString(document.documentElement.lang || undefined, { hour: '2-digit', minute: '2-digit' });
}

function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return `${minutes}:${seconds}`;
}

/** Redraw `container` and put the focus (and the caret) back on the element with the same data-key. */
function rerender(container, build) {
  const active = document.activeElement;
  let key = null;
  let cardKey = null;
  let selection = null;
  if (active && container.contains(active)) {
    key = active.dataset?.key || null;
    cardKey = active.closest('[data-card-key]')?.dataset.cardKey || null;
    try {
      if (typeof active.selectionStart === 'number') selection = [active.selectionStart, active.selectionEnd];
    } catch { /* not a text field */ }
  }
  clear(container).append(...[build()].flat(Infinity).filter(Boolean));
  if (!key && !cardKey) return;
  const find = (attr, value) => [...container.querySelectorAll(`[${attr}]`)].find((el) => el.getAttribute(attr) === value);
  let target = key ? find('data-key', key) : null;
  if (target && target.disabled) target = null;
  if (!target && cardKey) target = find('data-card-key', cardKey)?.querySelector('h3');
  if (!target) return;
  target.focus();
  if (selection && typeof target.setSelectionRange === 'function') {
    try { target.setSelectionRange(...selection); } catch { /* not a text field */ }
  }
}

export class Content {
  constructor(meeting) {
    this.m = meeting;
    // Q&A
    this.questions = new Map();
    this.myVotes = new Set();
    this.myQuestions = new Set();
    this.qaSort = 'newest';
    this.qaUnread = 0;
    this.answering = null;
    this.drafts = new Map();
    this.qaList = null;
    // polls and quizzes, in the order they appeared
    this.polls = new Map();
    this.quizzes = new Map();
    this.order = [];
    this.pollsUnread = 0;
    this.pollsBody = null;
    this.floating = null;
    this.dismissed = new Set();
    this.launchError = '';
    this.timer = null;
  }

  get can() { return this.m.permissions || {}; }

  get qaAvailable() { return !!this.m.settings.qa_enabled; }

  get pollsAvailable() { return !!this.can.manage_polls || this.order.length > 0; }

  attach(ui) {
    this.layer = h('div', { class: 'live-card-layer', hidden: true });
    // Escape inside the card hides it (it stays in the Polls panel).
    this.layer.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !this.floating) return;
      event.preventDefault();
      this.dismissed.add(`${this.floating.kind}:${this.floating.id}`);
      this.floating = null;
      this.renderFloating();
    });
    ui.stage.append(this.layer);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  onMessage(message) {
    switch (message.type) {
      case 'qa_updated': this.onQa(message); break;
      case 'poll_started': this.onPollStarted(message.poll); break;
      case 'poll_updated': this.onPollUpdated(message); break;
      case 'poll_ended': this.onPollEnded(message); break;
      case 'poll_deleted': this.onPollDeleted(message.poll_id); break;
      case 'quiz_started': this.onQuizStarted(message); break;
      case 'quiz_ended': this.onQuizEnded(message); break;
      default: break;
    }
  }

  async request(message, { silent = false } = {}) {
    try {
      return await this.m.signaling.request(message);
    } catch (error) {
      if (!silent) this.m.toast(t('room.error', { message: this.errorText(error) }), 'warn');
      throw error;
    }
  }

  errorText(error) {
    const key = `content.error.${error.code}`;
    const text = t(key);
    return text === key ? (error.message || error.code) : text;
  }

  // -- Q&A -------------------------------------------------------------------------------------

  isMine(question) {
    return this.myQuestions.has(question.id) || (!!question.participant_id && question.participant_id === this.m.self?.id);
  }

  onQa(message) {
    const id = message.question_id;
    const known = this.questions.get(id);
    let fresh = false;
    if (message.action === 'question.deleted') {
      this.questions.delete(id);
      this.myVotes.delete(id);
      if (this.answering === id) this.answering = null;
    } else if (message.question) {
      const question = { ...message.question, answers: [...(message.question.answers || [])] };
      // Private answers reach their asker once; public views never carry them, so keep ours.
      for (const answer of known?.answers || []) {
        if (answer.private && !question.answers.some((a) => a.id === answer.id)) question.answers.push(answer);
      }
      this.questions.set(id, question);
      fresh = !known && message.action === 'question.created' && !this.isMine(question);
    } else if (message.answer && known) {
      const answers = known.answers.filter((a) => a.id !== message.answer.id);
      answers.push(message.answer);
      answers.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
      known.answers = answers;
      if (message.action === 'answer.created' && message.answer.participant_id !== this.m.self?.id) {
        fresh = true;
        if (this.isMine(known)) {
          this.m.toast(t('qa.your_question_answered'), 'info', [{ label: t('qa.open'), run: () => this.m.openPanel('qa') }]);
        }
      }
    } else if (message.answer_id && known) {
      known.answers = known.answers.filter((a) => a.id !== message.answer_id);
    }
    if (fresh && this.m.panel !== 'qa') {
      this.qaUnread += 1;
      this.m.renderControls();
    }
    this.renderQa();
  }

  buildQaPanel() {
    this.qaUnread = 0;
    const sort = h('select', {
      class: 'recipient qa-sort', 'aria-label': t('qa.sort'), 'data-key': 'qa-sort',
      onchange: () => { this.qaSort = sort.value; this.renderQa(); },
    }, h('option', { value: 'newest', text: t('qa.sort_newest') }), h('option', { value: 'votes', text: t('qa.sort_votes') }));
    sort.value = this.qaSort;
    this.qaList = h('div', { class: 'qa-list' });
    const input = h('textarea', {
      class: 'chat-input qa-input', rows: 2, maxlength: 2000, 'aria-label': t('qa.ask_placeholder'), placeholder: t('qa.ask_placeholder'),
    });
    const anonymous = h('input', { type: 'checkbox', class: 'qa-anonymous' });
    const send = h('button', { type: 'submit', class: 'btn small primary qa-send', 'aria-label': t('qa.ask') }, icon('send'), t('qa.ask'));
    const form = h('form', { class: 'composer qa-form' },
      h('div', { class: 'compose-row' }, input),
      h('div', { class: 'form-row' },
        h('label', { class: 'check' }, anonymous, h('span', { text: t('qa.anonymous') })), send));
    const submit = async () => {
      const text = input.value.trim();
      if (!text) return;
      send.disabled = true;
      try {
        const reply = await this.request({ type: 'question', question: text, anonymous: anonymous.checked });
        if (reply?.question_id) this.myQuestions.add(reply.question_id);
        input.value = '';
        anonymous.checked = false;
        this.m.announce(t('qa.asked'));
        this.renderQa();
      } catch { /* shown */ }
      send.disabled = false;
      input.focus();
    };
    form.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); submit(); }
    });
    this.renderQa();
    return [h('div', { class: 'panel-tools' }, h('label', { class: 'to-label' }, h('span', { text: t('qa.sort_label') }), sort)), this.qaList, form];
  }

  renderQa() {
    if (!this.qaList || this.m.panel !== 'qa') return;
    rerender(this.qaList, () => {
      const all = [...this.questions.values()];
      if (!all.length) return h('p', { class: 'empty', text: t('qa.empty') });
      const newest = (a, b) => String(b.created_at).localeCompare(String(a.created_at));
      all.sort((a, b) => ((a.status === 'dismissed') - (b.status === 'dismissed'))
        || (this.qaSort === 'votes' ? (b.votes - a.votes) || newest(a, b) : newest(a, b)));
      return h('ul', { class: 'questions', 'aria-label': t('qa.title') }, all.map((q) => this.questionItem(q)));
    });
  }

  questionItem(q) {
    const mine = this.isMine(q);
    const voted = this.myVotes.has(q.id);
    const manage = !!this.can.manage_qa;
    const dismissed = q.status === 'dismissed';
    const author = mine ? t('chat.you') : (q.anonymous || !q.participant_name ? t('qa.anonymous_author') : q.participant_name);
    const meta = h('div', { class: 'meta' },
      h('strong', { text: author }),
      mine && q.anonymous ? h('span', { class: 'muted', text: t('qa.anonymous_note') }) : null,
      h('time', { datetime: q.created_at, text: formatTime(q.created_at) }),
      dismissed ? h('span', { class: 'tag', text: t('qa.dismissed') }) : null,
      q.answers.length ? h('span', { class: 'tag ok', text: t('qa.answered') }) : null);
    const answers = q.answers.length
      ? h('ul', { class: 'answers', 'aria-label': t('qa.answers') }, q.answers.map((a) => h('li', { class: `answer${a.private ? ' is-private' : ''}` },
        h('div', { class: 'meta' }, h('strong', { text: a.participant_id && a.participant_id === this.m.self?.id ? t('chat.you') : (a.participant_name || t('chat.system')) }),
          a.private ? h('span', { class: 'private', text: t('qa.private_answer') }) : null,
          h('time', { datetime: a.created_at, text: formatTime(a.created_at) })),
        h('p', { text: a.answer }))))
      : null;
    const voteLabel = voted ? t('qa.unvote', { count: q.votes }) : t('qa.upvote', { count: q.votes });
    const actions = h('div', { class: 'q-actions' },
      h('button', {
        type: 'button', class: `btn small vote${voted ? ' active' : ''}`, 'aria-pressed': String(voted),
        'aria-label': voteLabel, title: voteLabel, 'data-key': `vote:${q.id}`, onclick: () => this.toggleVote(q.id),
      }, icon('up'), h('span', { class: 'vote-count', text: String(q.votes) })));
    if (manage) {
      actions.append(
        h('button', {
          type: 'button', class: 'btn small ghost', text: t('qa.answer'), 'aria-expanded': String(this.answering === q.id),
          'aria-label': t('qa.answer_question', { question: q.question.slice(0, 60) }), 'data-key': `answer-open:${q.id}`,
          onclick: () => { this.answering = this.answering === q.id ? null : q.id; this.renderQa(); this.focusKey(`answer-text:${q.id}`); },
        }),
        h('button', {
          type: 'button', class: 'btn small ghost', text: dismissed ? t('qa.reopen') : t('qa.dismiss'),
          'aria-label': `${dismissed ? t('qa.reopen') : t('qa.dismiss')}: ${q.question.slice(0, 60)}`, 'data-key': `status:${q.id}`,
          onclick: () => this.request({ type: 'question_moderate', question_id: q.id, action: dismissed ? 'reopen' : 'dismiss' }).catch(() => {}),
        }));
    }
    return h('li', { class: `question${mine ? ' mine' : ''}${dismissed ? ' is-dismissed' : ''}`, dataset: { questionId: q.id } },
      meta, h('p', { class: 'q-text', text: q.question }), answers, actions,
      manage && this.answering === q.id ? this.answerForm(q) : null);
  }

  answerForm(q) {
    const key = `answer-text:${q.id}`;
    const text = h('textarea', {
      class: 'chat-input answer-input', rows: 2, maxlength: 4000, 'aria-label': t('qa.answer_placeholder'),
      placeholder: t('qa.answer_placeholder'), 'data-key': key, oninput: () => this.drafts.set(key, text.value),
    });
    text.value = this.drafts.get(key) || '';
    const privateKey = `answer-private:${q.id}`;
    const priv = h('input', { type: 'checkbox', 'data-key': privateKey, onchange: () => this.drafts.set(privateKey, priv.checked ? '1' : '') });
    priv.checked = !!this.drafts.get(privateKey);
    const form = h('form', { class: 'answer-form' }, text,
      h('div', { class: 'form-row' },
        h('label', { class: 'check' }, priv, h('span', { text: t('qa.private') })),
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', class: 'btn small ghost', text: t('action.cancel'), 'data-key': `answer-cancel:${q.id}`, onclick: () => { this.answering = null; this.renderQa(); this.focusKey(`answer-open:${q.id}`); } }),
        h('button', { type: 'submit', class: 'btn small primary', text: t('qa.send_answer'), 'data-key': `answer-send:${q.id}` })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const answer = text.value.trim();
      if (!answer) return;
      const isPrivate = priv.checked;
      try {
        const reply = await this.request({ type: 'answer', question_id: q.id, answer, private: isPrivate });
        this.drafts.delete(key);
        this.drafts.delete(privateKey);
        this.answering = null;
        const known = this.questions.get(q.id);
        if (isPrivate && known && reply?.answer_id && !known.answers.some((a) => a.id === reply.answer_id)) {
          // Private answers go to the asker only: show ours from the reply.
          known.answers.push({
            id: reply.answer_id, answer, private: true, participant_id: this.m.self?.id,
            participant_name: this.m.self?.name, created_at: new Date().toISOString(),
          });
        }
        this.renderQa();
        this.focusKey(`answer-open:${q.id}`);
      } catch { /* shown */ }
    });
    return form;
  }

  focusKey(key) {
    const el = [...(this.m.ui?.panel.querySelectorAll('[data-key]') || [])].find((node) => node.dataset.key === key);
    el?.focus();
  }

  async toggleVote(id) {
    const voted = this.myVotes.has(id);
    try {
      await this.request({ type: 'question_vote', question_id: id, vote: !voted }, { silent: true });
      if (voted) this.myVotes.delete(id); else this.myVotes.add(id);
    } catch (error) {
      if (error.code === 'already_voted') this.myVotes.add(id);
      else if (error.code === 'vote_not_found') this.myVotes.delete(id);
      else this.m.toast(t('room.error', { message: this.errorText(error) }), 'warn');
    }
    this.renderQa();
  }

  // -- polls -----------------------------------------------------------------------------------

  remember(kind, id) {
    this.order = this.order.filter((item) => !(item.kind === kind && item.id === id));
    this.order.push({ kind, id });
    this.dismissed.delete(`${kind}:${id}`);
    this.floating = { kind, id };
    if (this.m.panel !== 'polls') {
      this.pollsUnread += 1;
    }
    this.m.renderControls();
  }

  onPollStarted(poll) {
    if (!poll) return;
    const known = this.polls.get(poll.id);
    this.polls.set(poll.id, {
      poll, status: 'launched', voted: 0, counts: {}, results: null, mine: known?.mine || null,
      selection: new Set(), text: '', error: '',
    });
    this.remember('poll', poll.id);
    this.m.announce(t('poll.started_announce', { question: poll.question }));
    this.renderPolls();
  }

  onPollUpdated(message) {
    const state = this.polls.get(message.poll_id);
    if (!state) return;
    state.voted = message.voted;
    state.counts = message.counts || {};
    this.renderPolls();
  }

  onPollEnded(message) {
    let state = this.polls.get(message.poll_id);
    const results = message.results;
    if (!state && results) {
      const poll = { id: results.id, question: results.question, type: results.type, anonymous: results.anonymous, options: results.options.map((o) => ({ id: o.id, label: o.label })) };
      state = { poll, voted: 0, counts: {}, mine: null, selection: new Set(), text: '', error: '' };
      this.polls.set(poll.id, state);
      this.order.push({ kind: 'poll', id: poll.id });
    }
    if (!state) return;
    state.status = 'ended';
    state.results = results;
    if (!this.dismissed.has(`poll:${message.poll_id}`)) this.floating = { kind: 'poll', id: message.poll_id };
    this.m.announce(t('poll.ended_announce', { question: state.poll.question }));
    this.renderPolls();
  }

  onPollDeleted(id) {
    this.polls.delete(id);
    this.order = this.order.filter((item) => !(item.kind === 'poll' && item.id === id));
    if (this.floating?.kind === 'poll' && this.floating.id === id) this.floating = null;
    this.m.renderControls();
    this.renderPolls();
  }

  async vote(state) {
    const poll = state.poll;
    const message = { type: 'poll_vote', poll_id: poll.id };
    if (poll.type === 'free') {
      const text = state.text.trim();
      if (!text) { state.error = t('poll.need_text'); this.renderPolls(); return; }
      message.text = text;
    } else {
      if (!state.selection.size) { state.error = t('poll.need_choice'); this.renderPolls(); return; }
      message.option_ids = [...state.selection];
    }
    state.error = '';
    try {
      const reply = await this.request(message, { silent: true });
      state.mine = { option_ids: message.option_ids || [], text: message.text || null };
      if (reply?.counts) { state.counts = reply.counts; state.voted = reply.voted; }
      this.m.announce(t('poll.voted'));
    } catch (error) {
      if (error.code === 'already_voted') state.mine = state.mine || { option_ids: [], text: null };
      state.error = this.errorText(error);
    }
    this.renderPolls();
  }

  pollCard(state, where) {
    const { poll } = state;
    const id = poll.id;
    const titleId = `poll-title-${where}-${id}`;
    const ended = state.status === 'ended';
    const manage = !!this.can.manage_polls;
    const card = h('section', {
      class: `content-card poll${ended ? ' is-ended' : ''}`, 'aria-labelledby': titleId,
      dataset: { pollId: id, cardKey: `poll:${id}:${where}` },
    });
    card.append(h('div', { class: 'card-head' },
      h('span', { class: 'kind' }, icon('poll'), t('poll.kind')),
      h('span', { class: `tag${ended ? '' : ' live'}`, text: ended ? t('poll.ended') : t('poll.live') }),
      h('span', { class: 'spacer' }),
      where === 'float' ? this.closeFloating('poll', id) : null));
    card.append(h('h3', { id: titleId, tabindex: '-1', text: poll.question }));
    if (!ended && !state.mine) {
      const form = h('form', { class: 'vote-form' });
      if (poll.type === 'free') {
        const key = `poll-text:${id}:${where}`;
        const text = h('textarea', {
          class: 'chat-input', rows: 2, maxlength: 1000, 'aria-label': t('poll.your_answer'), placeholder: t('poll.your_answer'),
          'data-key': key, oninput: () => { state.text = text.value; },
        });
        text.value = state.text;
        form.append(text);
      } else {
        const multiple = poll.type === 'multiple';
        const group = h('fieldset', { class: 'choices' },
          h('legend', { class: 'sr-only', text: multiple ? t('poll.choose_many') : t('poll.choose_one') }),
          poll.options.map((option) => {
            const input = h('input', {
              type: multiple ? 'checkbox' : 'radio', name: `poll-${where}-${id}`, value: option.id,
              'data-key': `poll-opt:${id}:${option.id}:${where}`,
              onchange: () => {
                if (!multiple) state.selection.clear();
                if (input.checked) state.selection.add(option.id); else state.selection.delete(option.id);
              },
            });
            input.checked = state.selection.has(option.id);
            return h('label', { class: 'choice' }, input, h('span', { text: option.label }));
          }));
        form.append(h('p', { class: 'muted small', text: multiple ? t('poll.choose_many') : t('poll.choose_one') }), group);
      }
      form.append(h('div', { class: 'form-row' }, h('span', { class: 'spacer' }),
        h('button', { type: 'submit', class: 'btn small primary', text: t('poll.vote'), 'data-key': `poll-vote:${id}:${where}` })));
      form.addEventListener('submit', (event) => { event.preventDefault(); this.vote(state); });
      card.append(form);
    } else if (state.mine && !ended) {
      card.append(h('p', { class: 'note ok', text: t('poll.vote_recorded') }));
    }
    if (state.error) card.append(h('p', { class: 'error', role: 'alert', text: state.error }));
    if (ended || state.mine || manage) card.append(this.pollResults(state));
    if (manage && !ended) {
      card.append(h('div', { class: 'form-row' }, h('span', { class: 'spacer' }),
        h('button', {
          type: 'button', class: 'btn small danger', text: t('poll.end'), 'aria-label': `${t('poll.end')}: ${poll.question.slice(0, 60)}`,
          'data-key': `poll-end:${id}:${where}`,
          onclick: () => this.request({ type: 'poll_end', poll_id: id }).catch(() => {}),
        })));
    }
    return card;
  }

  pollResults(state) {
    const { poll, results } = state;
    const ended = state.status === 'ended';
    const total = results ? results.voted : state.voted;
    const box = h('div', { class: 'results', role: 'group', 'aria-label': ended ? t('poll.results') : t('poll.live_results') },
      h('p', { class: 'muted small', text: `${ended ? t('poll.results') : t('poll.live_results')} · ${t('poll.votes_total', { count: total })}` }));
    if (poll.type === 'free') {
      const answers = results?.answers || [];
      if (ended) {
        box.append(answers.length
          ? h('ul', { class: 'free-answers' }, answers.map((a) => h('li', {}, a.voter?.name ? h('strong', { text: `${a.voter.name}: ` }) : null, a.text)))
          : h('p', { class: 'muted small', text: t('poll.no_answers') }));
      }
      return box;
    }
    const list = h('ul', { class: 'bars' });
    for (const option of poll.options) {
      const count = results ? (results.options.find((o) => o.id === option.id)?.voted ?? 0) : (state.counts[option.id] ?? 0);
      const share = total ? Math.round((count / total) * 100) : 0;
      const chosen = state.mine?.option_ids?.includes(option.id);
      const label = t('poll.option_result', { label: option.label, count, percent: share });
      const fill = h('i');
      fill.style.width = `${share}%`;
      list.append(h('li', { class: `bar${chosen ? ' chosen' : ''}`, dataset: { optionId: option.id } },
        h('div', { class: 'bar-text' }, h('span', { class: 'bar-label', text: option.label }),
          chosen ? h('span', { class: 'sr-only', text: t('poll.your_choice') }) : null,
          h('span', { class: 'bar-count', 'aria-hidden': 'true', text: `${count} · ${share}%` }),
          h('span', { class: 'sr-only', text: label })),
        h('div', { class: 'bar-track', 'aria-hidden': 'true' }, fill)));
    }
    box.append(list);
    return box;
  }

  closeFloating(kind, id) {
    return h('button', {
      type: 'button', class: 'icon-btn small', 'aria-label': t('content.hide_card'), title: t('content.hide_card'),
      onclick: () => {
        this.dismissed.add(`${kind}:${id}`);
        if (this.floating?.kind === kind && this.floating.id === id) this.floating = null;
        this.renderFloating();
      },
    }, icon('close'));
  }

  // -- quizzes ---------------------------------------------------------------------------------

  onQuizStarted(message) {
    const quiz = message.quiz;
    if (!quiz) return;
    this.quizzes.set(quiz.id, {
      quiz, runId: message.run_id, deadline: message.deadline ? Date.parse(message.deadline) : null,
      status: 'launched', results: null, answers: new Map(),
    });
    this.remember('quiz', quiz.id);
    this.m.announce(t('quiz.started_announce', { title: quiz.title }));
    this.startTimer();
    this.renderPolls();
  }

  onQuizEnded(message) {
    const state = this.quizzes.get(message.quiz_id);
    if (!state) return;
    if (message.results?.run_id && state.runId && message.results.run_id !== state.runId) return;
    state.status = 'ended';
    state.results = message.results;
    if (!this.dismissed.has(`quiz:${message.quiz_id}`)) this.floating = { kind: 'quiz', id: message.quiz_id };
    this.m.announce(t('quiz.ended_announce', { title: state.quiz.title }));
    this.renderPolls();
  }

  startTimer() {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), 1000);
  }

  tick() {
    let running = false;
    const root = this.m.ui?.root;
    for (const [id, state] of this.quizzes) {
      if (state.status !== 'launched' || !state.deadline) continue;
      running = true;
      const text = this.countdownText(state);
      for (const el of root?.querySelectorAll('.countdown') || []) {
        if (el.dataset.quizId === id) {
          el.textContent = text;
          el.classList.toggle('urgent', state.deadline - Date.now() <= 10000);
        }
      }
    }
    if (!running) this.stop();
  }

  /** Time windows: the whole quiz, or (timing_mode "question") one window of the limit per question. */
  windowOf(state) {
    const { quiz, deadline } = state;
    const limit = (quiz.time_limit_seconds || 0) * 1000;
    if (quiz.timing_mode !== 'question' || !limit || !deadline) return null;
    const start = deadline - limit * quiz.questions.length;
    const index = Math.floor((Date.now() - start) / limit);
    return { index, endsAt: start + limit * (index + 1) };
  }

  countdownText(state) {
    if (!state.deadline) return t('quiz.no_limit');
    const left = state.deadline - Date.now();
    if (left <= 0) return t('quiz.time_up');
    const window = this.windowOf(state);
    if (window && window.index < state.quiz.questions.length) {
      return t('quiz.question_time_left', { number: window.index + 1, time: clock(window.endsAt - Date.now()) });
    }
    return t('quiz.time_left', { time: clock(left) });
  }

  async answerQuiz(state, question) {
    const entry = state.answers.get(question.id);
    if (!entry?.selection.size) {
      state.answers.set(question.id, { selection: new Set(), ...entry, error: t('poll.need_choice') });
      this.renderPolls();
      return;
    }
    entry.error = '';
    try {
      await this.request({ type: 'quiz_answer', quiz_id: state.quiz.id, question_id: question.id, choice_ids: [...entry.selection] }, { silent: true });
      entry.sent = true;
      this.m.announce(t('quiz.answer_recorded'));
    } catch (error) {
      if (error.code === 'already_answered') entry.sent = true;
      entry.error = this.errorText(error);
    }
    this.renderPolls();
  }

  quizCard(state, where) {
    const { quiz } = state;
    const id = quiz.id;
    const titleId = `quiz-title-${where}-${id}`;
    const ended = state.status === 'ended';
    const card = h('section', {
      class: `content-card quiz${ended ? ' is-ended' : ''}`, 'aria-labelledby': titleId,
      dataset: { quizId: id, cardKey: `quiz:${id}:${where}` },
    });
    card.append(h('div', { class: 'card-head' },
      h('span', { class: 'kind' }, icon('quiz'), t('quiz.kind')),
      ended
        ? h('span', { class: 'tag', text: t('quiz.ended') })
        : h('span', { class: 'countdown tag live', role: 'timer', dataset: { quizId: id }, text: this.countdownText(state) }),
      h('span', { class: 'spacer' }),
      where === 'float' ? this.closeFloating('quiz', id) : null));
    card.append(h('h3', { id: titleId, tabindex: '-1', text: quiz.title }));
    const window = this.windowOf(state);
    const byQuestion = new Map((state.results?.questions || []).map((q) => [q.id, q]));
    quiz.questions.forEach((question, index) => {
      const entry = state.answers.get(question.id) || { selection: new Set(), sent: false, error: '' };
      state.answers.set(question.id, entry);
      const result = byQuestion.get(question.id);
      const block = h('fieldset', { class: 'quiz-question', dataset: { questionId: question.id } },
        h('legend', { text: `${index + 1}. ${question.text}` }));
      if (window && !ended) {
        const note = index < window.index ? t('quiz.question_closed') : index > window.index ? t('quiz.question_later') : t('quiz.question_open');
        block.append(h('p', { class: 'muted small', text: note }));
      }
      if (question.multiple && !ended) block.append(h('p', { class: 'muted small', text: t('poll.choose_many') }));
      for (const choice of question.choices) {
        const votes = result?.votes.find((v) => v.id === choice.id);
        if (ended) {
          const mark = votes?.correct ? h('span', { class: 'correct', role: 'img', 'aria-label': t('quiz.correct') }, icon('check')) : null;
          block.append(h('div', { class: `choice result${votes?.correct ? ' is-correct' : ''}${entry.selection.has(choice.id) ? ' chosen' : ''}` },
            mark, h('span', { class: 'choice-text', text: choice.text }),
            entry.selection.has(choice.id) && entry.sent ? h('span', { class: 'tag', text: t('quiz.your_answer') }) : null,
            h('span', { class: 'bar-count', text: t('quiz.choice_votes', { count: votes?.voted ?? 0 }) })));
          continue;
        }
        const input = h('input', {
          type: question.multiple ? 'checkbox' : 'radio', name: `quiz-${where}-${id}-${question.id}`, value: choice.id,
          disabled: entry.sent, 'data-key': `quiz-opt:${id}:${question.id}:${choice.id}:${where}`,
          onchange: () => {
            if (!question.multiple) entry.selection.clear();
            if (input.checked) entry.selection.add(choice.id); else entry.selection.delete(choice.id);
          },
        });
        input.checked = entry.selection.has(choice.id);
        block.append(h('label', { class: 'choice' }, input, h('span', { text: choice.text })));
      }
      if (ended && entry.sent && result) {
        const correct = new Set(result.votes.filter((v) => v.correct).map((v) => v.id));
        const right = correct.size === entry.selection.size && [...entry.selection].every((c) => correct.has(c));
        block.append(h('p', { class: `note ${right ? 'ok' : 'warn'}`, text: right ? t('quiz.you_were_right') : t('quiz.you_were_wrong') }));
      } else if (!ended && entry.sent) {
        block.append(h('p', { class: 'note ok', text: t('quiz.answer_recorded') }));
      } else if (!ended) {
        block.append(h('div', { class: 'form-row' }, h('span', { class: 'spacer' }), h('button', {
          type: 'button', class: 'btn small primary', text: t('quiz.submit'),
          'aria-label': t('quiz.submit_question', { number: index + 1 }), 'data-key': `quiz-send:${id}:${question.id}:${where}`,
          onclick: () => this.answerQuiz(state, question),
        })));
      }
      if (entry.error && !ended) block.append(h('p', { class: 'error', role: 'alert', text: entry.error }));
      card.append(block);
    });
    if (this.can.manage_polls && !ended) {
      card.append(h('div', { class: 'form-row' }, h('span', { class: 'spacer' }), h('button', {
        type: 'button', class: 'btn small danger', text: t('quiz.end'), 'aria-label': `${t('quiz.end')}: ${quiz.title.slice(0, 60)}`,
        'data-key': `quiz-end:${id}:${where}`,
        onclick: () => this.request({ type: 'quiz_end', quiz_id: id }).catch(() => {}),
      })));
    }
    return card;
  }

  // -- the polls panel and the floating card ---------------------------------------------------

  card(item, where) {
    if (item.kind === 'poll') {
      const state = this.polls.get(item.id);
      return state ? this.pollCard(state, where) : null;
    }
    const state = this.quizzes.get(item.id);
    return state ? this.quizCard(state, where) : null;
  }

  buildPollsPanel() {
    this.pollsUnread = 0;
    this.pollsBody = h('div', { class: 'content-list' });
    const parts = [];
    if (this.can.manage_polls) parts.push(this.launchForm());
    parts.push(this.pollsBody);
    this.renderPolls();
    return h('div', { class: 'polls-scroll' }, parts);
  }

  launchForm() {
    const kind = h('select', { class: 'recipient launch-kind', 'aria-label': t('content.launch_kind') },
      h('option', { value: 'poll', text: t('poll.kind') }), h('option', { value: 'quiz', text: t('quiz.kind') }));
    const id = h('input', {
      type: 'text', class: 'text-input launch-id', 'aria-label': t('content.launch_id'), placeholder: t('content.launch_id'),
      autocomplete: 'off', spellcheck: false, maxlength: 36,
    });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const launch = h('button', { type: 'submit', class: 'btn small primary launch-button', text: t('content.launch') });
    const form = h('form', { class: 'launch-form', 'aria-labelledby': 'launch-title' },
      h('h3', { id: 'launch-title', text: t('content.launch_title') }),
      h('p', { class: 'muted small', text: t('content.launch_hint') }),
      h('div', { class: 'form-row' }, kind, id, launch), error);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = id.value.trim();
      if (!value) { id.focus(); return; }
      launch.disabled = true;
      error.hidden = true;
      try {
        await this.request(kind.value === 'poll' ? { type: 'poll_launch', poll_id: value } : { type: 'quiz_launch', quiz_id: value }, { silent: true });
        id.value = '';
      } catch (failure) {
        error.textContent = this.errorText(failure);
        error.hidden = false;
      }
      launch.disabled = false;
    });
    return form;
  }

  renderPolls() {
    if (this.pollsBody && this.m.panel === 'polls') {
      rerender(this.pollsBody, () => {
        if (!this.order.length) return h('p', { class: 'empty', text: t('content.empty') });
        return [...this.order].reverse().map((item) => this.card(item, 'panel'));
      });
    }
    this.renderFloating();
  }

  renderFloating() {
    if (!this.layer) return;
    const item = this.m.panel === 'polls' ? null : this.floating;
    const key = item ? `${item.kind}:${item.id}` : null;
    const show = !!item && !this.dismissed.has(key);
    const hadFocus = this.layer.contains(document.activeElement);
    rerender(this.layer, () => (show ? this.card(item, 'float') : null));
    this.layer.hidden = !show || !this.layer.firstChild;
    if (hadFocus && !this.layer.contains(document.activeElement)) document.getElementById('ctl-polls')?.focus();
  }

  onPanelChanged() {
    if (this.m.panel !== 'qa') this.qaList = null;
    if (this.m.panel !== 'polls') this.pollsBody = null;
    this.renderFloating();
  }
}
