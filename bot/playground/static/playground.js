// toolcord playground: live updates (server-sent events), forms sent in the background,
// replies, voice recording. The server renders all HTML; this file only places it.
"use strict";

(() => {
  const body = document.body;
  const channel = body.dataset.channel;
  const token = body.dataset.token;
  const list = document.getElementById("messages");
  const composer = document.getElementById("composer");
  const toast = document.getElementById("toast");
  const typing = document.getElementById("typing");
  let typingTimer = null;

  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  const toBottom = () => { list.scrollTop = list.scrollHeight; };

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function showError(text) {
    toast.textContent = text;
    toast.hidden = false;
    setTimeout(() => { toast.hidden = true; }, 6000);
  }

  function upsert(id, html) {
    const stick = nearBottom();
    const node = fragment(html).firstElementChild;
    const existing = document.getElementById("m-" + id);
    if (existing) {
      existing.replaceWith(node);
    } else {
      list.querySelector(".empty")?.remove();
      list.appendChild(node);
    }
    if (node.classList.contains("from-bot")) { stopTyping(); }
    if (stick) {
      toBottom();
      keepBottomWhileImagesLoad(node);
    }
  }

  // An image has no height until it loads: scroll again once it has, so it is not left below.
  function keepBottomWhileImagesLoad(node) {
    for (const image of node.querySelectorAll("img")) {
      if (!image.complete) { image.addEventListener("load", toBottom, { once: true }); }
    }
  }

  function stopTyping() {
    typing.hidden = true;
    clearTimeout(typingTimer);
  }

  function connect() {
    const events = new EventSource(`/channels/${channel}/events`);
    events.addEventListener("reset", (e) => {
      list.replaceChildren(fragment(JSON.parse(e.data).html));
      toBottom();
      keepBottomWhileImagesLoad(list);
    });
    events.addEventListener("upsert", (e) => {
      const data = JSON.parse(e.data);
      upsert(data.id, data.html);
    });
    events.addEventListener("remove", (e) => {
      document.getElementById("m-" + JSON.parse(e.data).id)?.remove();
    });
    events.addEventListener("sidebar", (e) => {
      document.getElementById("sidebar").replaceChildren(fragment(JSON.parse(e.data).html));
    });
    events.addEventListener("palette", (e) => {
      document.getElementById("palette-body").replaceChildren(fragment(JSON.parse(e.data).html));
    });
    events.addEventListener("typing", (e) => {
      const data = JSON.parse(e.data);
      typing.textContent = data.text;
      typing.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(stopTyping, data.seconds * 1000);
    });
    events.onopen = () => { body.dataset.live = "1"; };
  }

  async function send(form, extra) {
    const data = new FormData(form);
    for (const [key, value] of Object.entries(extra || {})) { data.set(key, value); }
    const response = await fetch(form.action, {
      method: "POST",
      body: data,
      headers: { "Accept": "application/json", "X-Playground-Token": token },
    });
    const answer = await response.json().catch(() => ({ ok: false, error: response.statusText }));
    if (!answer.ok) { showError(answer.error || "The playground refused that."); }
    return answer.ok;
  }

  function clearComposer() {
    composer.reset();
    setReply(null, "");
  }

  // A command ran from the palette: the "/cha" typed to find it is done with.
  function clearCommandFilter() {
    if (composer.elements.content.value.startsWith("/")) { composer.elements.content.value = ""; }
    const palette = document.getElementById("palette");
    palette.open = false;
    for (const command of palette.querySelectorAll(".command")) { command.hidden = false; }
  }

  function setReply(id, name) {
    const box = document.getElementById("replying");
    composer.elements.reply_to.value = id || "";
    box.hidden = !id;
    box.querySelector("b").textContent = name ? "@" + name : "";
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.classList.contains("pg-form")) { return; }
    event.preventDefault();
    const extra = {};
    if (event.submitter && event.submitter.name) {
      extra[event.submitter.name] = event.submitter.value;
    }
    const ok = await send(form, extra);
    if (ok && form === composer) { clearComposer(); }
    if (ok && form.closest(".command")) {
      form.reset();
      form.closest(".command").open = false;
      clearCommandFilter();
    }
    if (ok && form.closest(".apps")) { form.closest(".apps").open = false; }
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.reply");
    if (button) {
      setReply(button.dataset.reply, button.dataset.replyName);
      composer.elements.content.focus();
    }
  });

  document.getElementById("cancel-reply").addEventListener("click", () => setReply(null, ""));

  composer.elements.content.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  composer.elements.content.addEventListener("input", () => {
    const text = composer.elements.content.value;
    const palette = document.getElementById("palette");
    if (!text.startsWith("/")) { return; }
    palette.open = true;
    const wanted = text.slice(1).trim().toLowerCase();
    for (const command of palette.querySelectorAll(".command")) {
      command.hidden = !command.dataset.command.startsWith(wanted);
    }
  });

  // Voice messages: record with MediaRecorder (OGG/Opus where the browser can, else WebM).
  const recordButton = document.getElementById("record");
  let recorder = null;
  let started = 0;
  recordButton.addEventListener("click", async () => {
    if (recorder) { recorder.stop(); return; }
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      showError("This browser cannot record audio here; attach a voice file instead.");
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      showError("No microphone: " + error.message);
      return;
    }
    const type = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus"]
      .find((t) => MediaRecorder.isTypeSupported(t)) || "";
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = async () => {
      stream.getTracks().forEach((track) => track.stop());
      const seconds = ((Date.now() - started) / 1000).toFixed(2);
      const blob = new Blob(chunks, { type: recorder.mimeType || "audio/ogg" });
      recorder = null;
      recordButton.classList.remove("recording");
      recordButton.textContent = "● Record voice";
      const data = new FormData();
      data.set("token", token);
      data.set("reply_to", composer.elements.reply_to.value);
      data.set("duration", seconds);
      data.set("voice", blob, blob.type.includes("webm") ? "voice.webm" : "voice.ogg");
      const response = await fetch(composer.action, {
        method: "POST", body: data,
        headers: { "Accept": "application/json", "X-Playground-Token": token },
      });
      const answer = await response.json().catch(() => ({ ok: false }));
      if (!answer.ok) { showError(answer.error || "The voice message was not sent."); }
    };
    started = Date.now();
    recorder.start();
    recordButton.classList.add("recording");
    recordButton.textContent = "■ Stop and send";
  });

  toBottom();
  connect();
})();
