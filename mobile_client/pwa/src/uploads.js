// The uploads screen: each queued capture's progress, then its state at the hub.
import { ATTENTION, DONE, STATUS_WORDS, queueDiscard, queueSubscribe } from "./queue.js";
import { $, formatTime } from "./ui.js";

// ---- uploads: what is sending, and what was sent this shift ----------------------

queueSubscribe((items) => {
  const pending = items.filter((item) => !item.confirmed).length;
  $("#queue-count").textContent = pending ? `(${pending})` : "";
  const list = $("#queue-list");
  list.replaceChildren();
  if (!items.length) {
    const empty = document.createElement("li");
    empty.textContent = "Nothing waiting to be sent.";
    list.append(empty);
  }
  for (const item of items) {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    const { text, tone } = describe(item);
    li.className = tone;
    li.dataset.state = item.confirmed ? item.status : item.state;
    const label = document.createElement("strong");
    label.textContent = item.label;
    const stateText = document.createElement("span");
    stateText.className = "state";
    stateText.textContent = text;
    li.append(label, stateText);
    if (item.sentAt) {
      const when = document.createElement("span");
      when.className = "hint";
      when.textContent = `Sent ${formatTime(new Date(item.sentAt))}`;
      li.append(when);
    }
    if (!item.confirmed && (item.state === "uploading" || item.progress > 0)) {
      const progress = document.createElement("progress");
      progress.max = 100;
      progress.value = Math.round((item.progress || 0) * 100);
      progress.setAttribute("aria-label", `Upload of ${item.label}`);
      li.append(progress);
    }
    if (item.reason && (item.state === "refused" || ATTENTION.has(item.status))) {
      const reason = document.createElement("p");
      reason.className = "reason";
      reason.textContent = item.reason;
      li.append(reason);
    }
    if (item.state === "refused" && !item.confirmed) {
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "secondary";
      discard.textContent = "Discard";
      discard.addEventListener("click", () => queueDiscard(item.id));
      li.append(discard);
    }
    list.append(li);
  }
});

function describe(item) {
  if (item.confirmed) {
    if (DONE.has(item.status)) return { text: STATUS_WORDS.archived, tone: "done" };
    if (ATTENTION.has(item.status)) return { text: STATUS_WORDS[item.status], tone: "attention" };
    return { text: STATUS_WORDS[item.status] || `At the hub: ${item.status}`, tone: "done" };
  }
  switch (item.state) {
    case "uploading":
      return { text: `Sending… ${Math.round((item.progress || 0) * 100)}%`, tone: "" };
    case "confirming":
      return { text: "Sent; waiting for the hub to confirm", tone: "" };
    case "waiting":
      return { text: item.note || "Waiting to send", tone: "waiting" };
    case "refused":
      return { text: "Needs attention: the hub refused it", tone: "attention" };
    default:
      return { text: "Waiting to send", tone: "waiting" };
  }
}
