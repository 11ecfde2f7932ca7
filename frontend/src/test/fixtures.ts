import type { PackCardFieldsFragment, ViewerFieldsFragment } from "../gql/graphql";

export const viewerFixture = (role: ViewerFieldsFragment["role"] = "MANAGER"): ViewerFieldsFragment => ({
  name: "Mia Manager",
  role,
  isManager: role === "OWNER" || role === "MANAGER",
  staff: { id: "U3RhZmY6MQ==", name: "Mia Manager", email: "manager@demo.test", role },
  business: { id: "QnVzaW5lc3M6MQ==", name: "Harbour Physio", timezone: "Australia/Sydney", currency: "AUD" },
});

let nextId = 1;

/** A 10-session physio pack, 3 used; override anything. */
export function makePack(overrides: Partial<PackCardFieldsFragment> = {}): PackCardFieldsFragment {
  const id = overrides.id ?? `pack-${nextId++}`;
  return {
    id,
    version: 1,
    name: "10 Physio sessions",
    metric: "SESSIONS",
    status: "ACTIVE",
    paymentStatus: "UNPAID",
    price: 90000,
    discount: 0,
    finalPrice: 90000,
    amountPaid: 0,
    balanceDue: 90000,
    purchasedAt: "2025-03-03T00:00:00Z",
    expiresAt: null,
    cancelledAt: null,
    cancelReason: "",
    client: { id: "client-1", name: "Anna Lee", phone: "0400 123 456", email: "anna.lee@example.com" },
    items: [
      {
        id: `${id}-item-1`,
        allowance: 10,
        used: 3,
        remaining: 7,
        services: [{ id: "service-1", name: "Physio 45" }],
      },
    ],
    ...overrides,
  };
}

/** The same pack after one more session was used. */
export function redeemed(pack: PackCardFieldsFragment, units = 1): PackCardFieldsFragment {
  return {
    ...pack,
    version: pack.version + 1,
    items: pack.items.map((item, index) =>
      index === 0 ? { ...item, used: item.used + units, remaining: item.remaining - units } : item,
    ),
  };
}
