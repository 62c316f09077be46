// A sitting: one nurse, one patient, one go. Its capture session at the hub
// (POST /api/v1/sessions) makes every capture of it join one study when no order or
// encounter gives one; the captures name it as `context.session`.
import { ApiError, session, sessionCreate } from "./api.js";
import { state } from "./ui.js";

const asking = new Map(); // sitting id -> the pending request, kept out of the sealed sitting

/** Starts the sitting of a confirmed patient; asks the hub for its session meanwhile. */
export function sittingStart(patient, { verified }) {
  state.sitting = {
    id: crypto.randomUUID(),
    patient,
    verified,
    operator: session() ? session().username : null,
    startedAt: new Date().toISOString(),
    link: null,
    specialty: null,
    session: null,
  };
  sittingSession();
  return state.sitting;
}

/**
 * The id of the sitting's capture session, asked for once more if the first try did
 * not get one; null when the hub cannot give one now (offline) or has no sessions
 * (an older hub: 404, 405), and the captures then go without.
 */
export async function sittingSession() {
  const sitting = state.sitting;
  if (!sitting) return null;
  if (sitting.session) return sitting.session;
  if (asking.has(sitting.id)) return asking.get(sitting.id);
  const pending = sessionCreate(sitting.patient)
    .then((body) => {
      if (body && body.id) sitting.session = String(body.id);
      return sitting.session;
    })
    .catch((error) => {
      if (!(error instanceof ApiError)) console.warn("capture session not created", error);
      return null;
    })
    .finally(() => asking.delete(sitting.id));
  asking.set(sitting.id, pending);
  return pending;
}
