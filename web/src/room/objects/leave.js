// What goes when someone leaves. networked-aframe removes the entities a leaving client created (when presence
// says it left), and the server tells everyone to remove the entities the leaver owned (protocol.md check 4).
// Pinned objects must outlive both, and an object someone else has taken over belongs to them now: guardPinned
// wraps the two NAF paths so that only what the leaver made and still owns, and is not pinned, goes.

/**
 * Wraps NAF's removal paths on connection (NAF.connection): `entities.removeEntitiesOfClient` (a client left) and
 * the `r` data channel handler (the server's or an owner's removal). isPinned(networkId) says whether an object is
 * pinned; onRemove(networkId) hears of each removal let through. Wrapping twice is a no-op.
 */
export function guardPinned(connection, isPinned, onRemove = () => {}) {
  const entities = connection.entities;
  if (entities.tonconGuarded) return;
  entities.tonconGuarded = true;

  const removeOfClient = entities.removeEntitiesOfClient.bind(entities);
  entities.removeEntitiesOfClient = (clientId) => {
    // Hidden from NAF while it looks: pinned objects, and what someone other than the leaver owns now.
    const kept = {};
    for (const [id, el] of Object.entries(entities.entities)) {
      const owner = el?.components?.networked?.data?.owner;
      if (isPinned(id) || (owner && owner !== clientId)) {
        kept[id] = el;
        delete entities.entities[id];
      }
    }
    const looked = Object.keys(entities.entities);
    try {
      const removed = removeOfClient(clientId);
      for (const id of looked) if (!(id in entities.entities)) onRemove(id);
      return removed;
    } finally {
      Object.assign(entities.entities, kept);
    }
  };

  const removeRemote = connection.dataChannelSubs.r;
  connection.dataChannelSubs.r = (from, dataType, data, source) => {
    if (data && isPinned(data.networkId)) return undefined;
    if (data) onRemove(data.networkId);
    return removeRemote(from, dataType, data, source);
  };
}
