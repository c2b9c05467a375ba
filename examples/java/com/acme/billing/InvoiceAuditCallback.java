package com.acme.billing;

import java.util.logging.Logger;
import org.kie.api.executor.CommandCallback;
import org.kie.api.executor.CommandContext;
import org.kie.api.executor.ExecutionResults;

/**
 * A KIE callback: named in a job's request data ({@code "callbacks": "com.acme.billing.InvoiceAuditCallback"}), it
 * is told when the job is done, or when its last attempt failed.
 */
public class InvoiceAuditCallback implements CommandCallback {

    private static final Logger LOG = Logger.getLogger(InvoiceAuditCallback.class.getName());

    @Override
    public void onCommandDone(CommandContext ctx, ExecutionResults results) {
        LOG.info("invoice " + results.getData("invoice") + " sent to " + ctx.getData("customer"));
    }

    @Override
    public void onCommandError(CommandContext ctx, Throwable exception) {
        LOG.warning("no invoice for " + ctx.getData("customer") + ": " + exception);
    }
}
