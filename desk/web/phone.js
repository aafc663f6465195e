// The browser phone: the agent page as its seat's phone, and the wallboard's listen and
// whisper. Signalling rides the screen's socket (phone.* and monitor.* messages); media is
// WebRTC to the gateway. Plain browser JavaScript, no build step.
'use strict';

const LXPhone = (() => {
  const rid = () => Math.random().toString(36).slice(2, 12);
  // the gateway relays speech to the recogniser: the browser's voice processing would
  // distort it, and a headset needs no echo cancellation
  const micConstraints = (deviceId) => ({ audio: {
    deviceId: deviceId ? { exact: deviceId } : undefined,
    echoCancellation: false, noiseSuppression: false, autoGainControl: false,
  } });

  // micError turns a getUserMedia failure into words an agent can act on
  function micError(e) {
    switch (e && e.name) {
      case 'NotAllowedError': case 'SecurityError': return LX.t('mic_denied');
      case 'NotFoundError': case 'OverconstrainedError': return LX.t('mic_missing');
      case 'NotReadableError': return LX.t('mic_busy');
    }
    return LX.t('mic_failed') + ': ' + ((e && e.message) || e);
  }

  // peer is one RTCPeerConnection to the gateway; candidates that arrive before the
  // answer wait for it.
  function peer(onCandidate, onTrack, onState) {
    const pc = new RTCPeerConnection({});
    const p = { id: rid(), pc, pending: [] };
    pc.onicecandidate = (e) => { if (e.candidate) onCandidate(p, e.candidate.toJSON()); };
    pc.ontrack = (e) => onTrack(e.streams[0] || new MediaStream([e.track]));
    pc.oniceconnectionstatechange = () => onState(p, pc.iceConnectionState);
    p.answer = async (sdp) => {
      await pc.setRemoteDescription({ type: 'answer', sdp });
      for (const c of p.pending.splice(0)) await pc.addIceCandidate(c).catch(() => {});
    };
    p.candidate = (c) => {
      if (pc.remoteDescription) pc.addIceCandidate(c).catch(() => {}); else p.pending.push(c);
    };
    return p;
  }

  // meter shows the microphone's level (RMS, 0…1) in el ten times a second.
  function meter(stream, el) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx || !el) return () => {};
    const ctx = new Ctx();
    const an = ctx.createAnalyser();
    an.fftSize = 1024;
    ctx.createMediaStreamSource(stream).connect(an);
    const buf = new Float32Array(an.fftSize);
    const iv = setInterval(() => {
      an.getFloatTimeDomainData(buf);
      let s = 0;
      for (const x of buf) s += x * x;
      el.value = Math.min(1, Math.sqrt(s / buf.length) * 4);
    }, 100);
    return () => { clearInterval(iv); ctx.close().catch(() => {}); };
  }

  // ringer plays the ring-back cadence (two tones, 1 s on, 2 s off) until stopped.
  function ringer() {
    let ctx = null, iv = 0;
    const burst = () => {
      if (!ctx) return;
      const g = ctx.createGain();
      g.gain.value = 0.1;
      g.connect(ctx.destination);
      for (const f of [440, 480]) {
        const o = ctx.createOscillator();
        o.frequency.value = f;
        o.connect(g);
        o.start();
        o.stop(ctx.currentTime + 1);
      }
    };
    return {
      start() {
        if (ctx) return;
        try { ctx = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return; }
        // a page not touched since it loaded (a kiosk) starts suspended; the banner still shows
        ctx.resume().catch(() => {});
        burst();
        iv = setInterval(burst, 3000);
      },
      stop() { clearInterval(iv); if (ctx) ctx.close().catch(() => {}); ctx = null; },
    };
  }

  // agent makes the agent page its seat's phone. ui: {status(text), banner(kind, from),
  // error(text), state({call, up, muted, held}), audio (an <audio>), level (a <meter>),
  // mics (a <select>)}; send(msg) writes to the socket.
  function agent(send, ui) {
    let enabled = false, stream = null, stopMeter = () => {}, p = null;
    let call = null; // {id, from, up, muted, held}
    let autoAnswer = false, restartTimer = 0;
    const ring = ringer();

    async function mic() {
      if (stream) return stream;
      stream = await navigator.mediaDevices.getUserMedia(micConstraints(ui.mics.value));
      stopMeter();
      stopMeter = meter(stream, ui.level);
      listMics().catch(() => {});
      return stream;
    }
    async function listMics() {
      const devs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput');
      const keep = ui.mics.value;
      ui.mics.replaceChildren(...devs.map((d, i) => LX.el('option', { value: d.deviceId }, d.label || 'mic ' + (i + 1))));
      const cur = stream && stream.getAudioTracks()[0] && stream.getAudioTracks()[0].getSettings().deviceId;
      ui.mics.value = keep || cur || '';
    }
    async function switchMic() {
      if (!stream) return;
      const old = stream;
      stream = null;
      try {
        await mic();
      } catch (e) { ui.error(micError(e)); stream = old; return; }
      const track = stream.getAudioTracks()[0];
      track.enabled = !(call && call.muted);
      if (p) for (const s of p.pc.getSenders()) if (s.track && s.track.kind === 'audio') await s.replaceTrack(track);
      old.getTracks().forEach((t) => t.stop());
    }

    async function setEnabled(on) {
      enabled = on;
      ui.error('');
      if (on) {
        try {
          await mic();
        } catch (e) {
          enabled = false;
          ui.error(micError(e));
          ui.status(false);
          return;
        }
      }
      send({ type: 'phone.register', on });
    }

    function closePeer() {
      clearTimeout(restartTimer);
      if (p) p.pc.close();
      p = null;
    }

    async function offer(restart) {
      if (!call) return;
      try {
        await mic();
      } catch (e) { ui.error(micError(e)); return; }
      if (!restart || !p) {
        closePeer();
        const id = call.id;
        p = peer((pp, c) => send({ type: 'phone.candidate', call: id, pc: pp.id, candidate: c }),
          (s) => { ui.audio.srcObject = s; ui.audio.play().catch(() => {}); }, iceState);
        const track = stream.getAudioTracks()[0];
        track.enabled = !call.muted;
        p.pc.addTrack(track, stream);
      }
      const o = await p.pc.createOffer(restart ? { iceRestart: true } : {});
      await p.pc.setLocalDescription(o);
      send({ type: 'phone.offer', call: call.id, pc: p.id, sdp: p.pc.localDescription.sdp });
    }

    // iceState: a dropped network restarts ICE on the same connection; if it fails for
    // good the agent is told, and the caller waits in silence for the page to come back
    function iceState(pp, st) {
      if (pp !== p) return;
      clearTimeout(restartTimer);
      if (st === 'connected' || st === 'completed') { ui.error(''); return; }
      if (st === 'failed') ui.error(LX.t('ice_failed'));
      if ((st === 'disconnected' || st === 'failed') && call && call.up) {
        restartTimer = setTimeout(() => offer(true).catch(() => {}), st === 'failed' ? 0 : 2000);
      }
    }

    function answer() {
      if (!call || call.up) return;
      ring.stop();
      call.up = true;
      ui.banner('active', call.from);
      offer(false).catch((e) => ui.error(String(e)));
      ui.state(call);
    }
    function hangup() {
      if (!call) return;
      send({ type: call.up ? 'phone.hangup' : 'phone.reject', call: call.id });
    }
    function mute(on) {
      if (!call) return;
      call.muted = on;
      if (stream) stream.getAudioTracks().forEach((t) => { t.enabled = !on; });
      send({ type: 'phone.mute', call: call.id, on });
      ui.state(call);
    }
    function hold(on) {
      if (!call) return;
      call.held = on;
      ui.audio.muted = on;
      send({ type: 'phone.hold', call: call.id, on });
      ui.state(call);
    }
    function dtmf(digits) {
      if (call && call.up) send({ type: 'phone.dtmf', call: call.id, digits });
    }
    function ended() {
      ring.stop();
      closePeer();
      call = null;
      ui.audio.srcObject = null;
      ui.audio.muted = false;
      ui.state(null);
    }

    function handle(ev) {
      const d = ev.data || {};
      switch (ev.type) {
        case 'hello': if (enabled && stream) send({ type: 'phone.register', on: true }); break; // a new socket
        case 'phone.status': ui.status(!!d.phone, d.reason); break;
        case 'phone.ring':
          call = { id: d.call, from: d.from || '', up: false, muted: !!d.muted, held: !!d.held };
          ui.banner('ringing', call.from);
          ui.state(call);
          if (autoAnswer) answer(); else ring.start();
          break;
        case 'phone.resume': // this page took up a call already answered (a reload)
          call = { id: d.call, from: d.from || '', up: true, muted: !!d.muted, held: !!d.held };
          ui.audio.muted = call.held;
          ui.banner('active', call.from);
          ui.state(call);
          offer(false).catch((e) => ui.error(String(e)));
          break;
        case 'phone.answer': if (p && d.pc === p.id) p.answer(d.sdp).catch((e) => ui.error(String(e))); break;
        case 'phone.candidate': if (p && d.pc === p.id && d.candidate) p.candidate(d.candidate); break;
        case 'phone.cancel': case 'phone.ended':
          if (call && d.call === call.id) {
            // the gateway's words for why: its ICE failed first, or the page never came back
            if (/ICE/.test(d.reason || '')) ui.error(LX.t(call.up ? 'ice_failed' : 'ice_failed_ring'));
            ended();
          }
          break;
      }
    }

    return { handle, setEnabled, answer, hangup, mute, hold, dtmf, switchMic, ended,
      setAutoAnswer: (on) => { autoAnswer = on; if (on && call && !call.up) answer(); },
      call: () => call, enabled: () => enabled };
  }

  // monitor is a supervisor's listen (recvonly), whisper or barge-in (with the
  // microphone) on a seat's call, from the wallboard.
  function monitor(send, audio, onEnd) {
    let p = null, stream = null;
    async function start(seat, mode) {
      stop();
      p = peer((pp, c) => send({ type: 'monitor.candidate', pc: pp.id, candidate: c }),
        (s) => { audio.srcObject = s; audio.play().catch(() => {}); }, () => {});
      if (mode === 'whisper' || mode === 'barge') {
        stream = await navigator.mediaDevices.getUserMedia(micConstraints());
        p.pc.addTrack(stream.getAudioTracks()[0], stream);
      } else {
        p.pc.addTransceiver('audio', { direction: 'recvonly' });
      }
      const o = await p.pc.createOffer();
      await p.pc.setLocalDescription(o);
      send({ type: 'monitor.start', seat, mode, pc: p.id, sdp: p.pc.localDescription.sdp });
    }
    function stop() {
      if (!p) return;
      send({ type: 'monitor.stop', pc: p.id });
      p.pc.close();
      p = null;
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null;
      audio.srcObject = null;
    }
    function handle(ev) {
      const d = ev.data || {};
      if (!p || d.pc !== p.id) return;
      if (ev.type === 'monitor.answer') p.answer(d.sdp).catch(() => {});
      if (ev.type === 'monitor.candidate' && d.candidate) p.candidate(d.candidate);
      if (ev.type === 'monitor.ended') { p.pc.close(); p = null; onEnd(); }
    }
    return { start, stop, handle, pc: () => p && p.pc, micError };
  }

  return { agent, monitor, micError };
})();
