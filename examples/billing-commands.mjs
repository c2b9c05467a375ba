// The billing-1.0 container of the client examples: `--container billing-1.0=./examples/billing-commands.mjs`.
export default {
  // Numbers an invoice for `customer` (default "unknown"); a real one would render and send it.
  'com.acme.SendInvoice': async ({ data, jobId }) => ({
    invoiceNumber: `INV-${String(jobId).padStart(6, '0')}`,
    customer: data.customer ?? 'unknown',
  }),
};
