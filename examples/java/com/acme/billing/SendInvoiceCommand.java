package com.acme.billing;

import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.TimeZone;
import org.kie.api.executor.Command;
import org.kie.api.executor.CommandContext;
import org.kie.api.executor.ExecutionResults;

/**
 * A KIE command as KIE users write them: it reads the job's request data from the context and returns its results.
 * It compiles against KIE's kie-api or against the kjobs Java worker's jar, and runs unchanged on either.
 *
 * <p>Request data: {@code customer} (text), {@code amount} (a number), {@code due} (a date, sent as
 * {@code {"java.util.Date": ms}}). Results: {@code invoice} (its number) and {@code total}. A throw is a failed
 * attempt, retried while the job has retries left.
 */
public class SendInvoiceCommand implements Command {

    @Override
    public ExecutionResults execute(CommandContext ctx) throws Exception {
        String customer = (String) ctx.getData("customer");
        Number amount = (Number) ctx.getData("amount");
        Date due = (Date) ctx.getData("due");
        if (customer == null || amount == null) {
            throw new IllegalArgumentException("request data needs customer and amount");
        }
        if (amount.doubleValue() <= 0) {
            throw new IllegalArgumentException("amount must be positive, got " + amount);
        }
        SimpleDateFormat day = new SimpleDateFormat("yyyyMMdd");
        day.setTimeZone(TimeZone.getTimeZone("UTC"));
        String invoice = "F-" + day.format(due != null ? due : new Date()) + "-"
                + Integer.toHexString(customer.hashCode() & 0xffff);
        // Here a real command would render the invoice and mail it.

        ExecutionResults results = new ExecutionResults();
        results.setData("invoice", invoice);
        results.setData("total", amount.doubleValue());
        results.setData("sentAt", new Date());
        return results;
    }
}
