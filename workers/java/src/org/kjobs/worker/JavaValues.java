package org.kjobs.worker;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The job's data between JSON and the Java values KIE's commands see.
 *
 * <p>Request data to Java ({@link #toJava}): JSON as {@link Json} reads it (strings, Integer/Long/Double, Boolean,
 * null, List, Map), except that KIE's date form {@code {"java.util.Date": ms}} (or an ISO-8601 string in place of
 * {@code ms}) becomes a {@link Date}. Any other object whose one key is a Java class name ({@code {"com.acme.Person":
 * {...}}}, how KIE's marshaller writes a Java object) is refused: the worker builds no objects of the user's types.
 *
 * <p>Results to JSON ({@link #toJson}): strings and characters, booleans, numbers the server keeps exactly (a JSON
 * number is a double there), dates (back to {@code {"java.util.Date": ms}}), enums (their names), maps with string
 * keys, collections and arrays. Anything else fails the job with the path of the value and its class.
 */
final class JavaValues {

    static final String DATE_KEY = "java.util.Date";

    /** How KIE's JSON marshaller names a Java object: a fully qualified class name, e.g. {@code com.acme.Person}. */
    private static final Pattern CLASS_NAME = Pattern.compile("[a-z_$][\\w$]*(\\.[a-zA-Z_$][\\w$]*)*\\.[A-Z_$][\\w$]*");

    /** Packages whose classes come from KIE's engine (process runtime, rules), which this worker does not provide. */
    private static final Pattern KIE_ENGINE = Pattern.compile("(org\\.kie|org\\.jbpm|org\\.drools)\\..*");

    private JavaValues() {
    }

    /** A value that has no form on the other side: the job fails with this message, without retry. */
    static final class UnsupportedValueException extends Exception {
        private static final long serialVersionUID = 1L;

        UnsupportedValueException(String message) {
            super(message);
        }
    }

    /**
     * The request data as the command's context holds it: a mutable {@link java.util.HashMap} at the top (KIE's
     * {@code CommandContext} default), values converted as the class comment says.
     */
    static Map<String, Object> toJava(Map<String, Object> requestData) throws UnsupportedValueException {
        Map<String, Object> data = new java.util.HashMap<>();
        for (Map.Entry<String, Object> entry : requestData.entrySet()) {
            data.put(entry.getKey(), toJavaValue(entry.getValue(), entry.getKey()));
        }
        return data;
    }

    @SuppressWarnings("unchecked")
    private static Object toJavaValue(Object value, String path) throws UnsupportedValueException {
        if (value instanceof Map) {
            Map<String, Object> map = (Map<String, Object>) value;
            if (map.size() == 1) {
                Map.Entry<String, Object> only = map.entrySet().iterator().next();
                String key = only.getKey();
                if (key.equals(DATE_KEY)) {
                    return toDate(only.getValue(), path);
                }
                if (CLASS_NAME.matcher(key).matches()) {
                    throw new UnsupportedValueException(foreignObject(path, key));
                }
            }
            Map<String, Object> converted = new LinkedHashMap<>();
            for (Map.Entry<String, Object> entry : map.entrySet()) {
                converted.put(entry.getKey(), toJavaValue(entry.getValue(), path + "." + entry.getKey()));
            }
            return converted;
        }
        if (value instanceof List) {
            List<Object> list = (List<Object>) value;
            List<Object> converted = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                converted.add(toJavaValue(list.get(i), path + "[" + i + "]"));
            }
            return converted;
        }
        return value;
    }

    private static String foreignObject(String path, String className) {
        String message = "request data value at " + path + " holds a Java object of class " + className + " ({\"" + className
                + "\": ...}): the kjobs Java worker gives commands only strings, numbers, booleans, dates ({\""
                + DATE_KEY + "\": ms}), lists and maps";
        if (KIE_ENGINE.matcher(className).matches()) {
            message += "; this one belongs to KIE's engine (process runtime), which the kjobs Java worker does not"
                    + " provide";
        }
        return message;
    }

    private static Date toDate(Object value, String path) throws UnsupportedValueException {
        if (value instanceof Integer || value instanceof Long) {
            return new Date(((Number) value).longValue());
        }
        if (value instanceof Double && Double.isFinite((Double) value)) {
            return new Date(Math.round((Double) value));
        }
        if (value instanceof String) {
            try {
                return Date.from(OffsetDateTime.parse((String) value).toInstant());
            } catch (DateTimeParseException e) {
                // reported below
            }
        }
        String given = value instanceof String ? Json.write(value)
                : value instanceof Map || value instanceof List ? "a JSON " + (value instanceof Map ? "object" : "array")
                : String.valueOf(value);
        throw new UnsupportedValueException("request data value at " + path + " is a date ({\"" + DATE_KEY
                + "\": ...}) holding " + given + ": expected epoch milliseconds or an ISO-8601 date-time");
    }

    /** The command's results as response data (a JSON object); {@code null} gives an empty one. */
    static Map<String, Object> toJson(Map<String, Object> results) throws UnsupportedValueException {
        Map<String, Object> json = new LinkedHashMap<>();
        if (results == null) {
            return json;
        }
        Set<Object> path = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<String, Object> entry : results.entrySet()) {
            if (!(entry.getKey() instanceof String)) {
                throw new UnsupportedValueException(
                        "results key " + entry.getKey() + " is a " + className(entry.getKey()) + ", not a String");
            }
            json.put(entry.getKey(), toJsonValue(entry.getValue(), entry.getKey(), path, 1));
        }
        return json;
    }

    private static Object toJsonValue(Object value, String where, Set<Object> path, int depth)
            throws UnsupportedValueException {
        if (depth > Json.MAX_DEPTH) {
            throw new UnsupportedValueException("results value at " + where + ": nested more than " + Json.MAX_DEPTH
                    + " levels deep");
        }
        if (value == null || value instanceof String || value instanceof Boolean) {
            return value;
        }
        if (value instanceof Character || value instanceof Enum) {
            return value instanceof Enum ? ((Enum<?>) value).name() : value.toString();
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte
                || value instanceof AtomicInteger) {
            return ((Number) value).intValue();
        }
        if (value instanceof Long || value instanceof AtomicLong || value instanceof BigInteger) {
            Number number = (Number) value;
            if (value instanceof BigInteger && ((BigInteger) value).bitLength() > 63) {
                throw inexact(where, value);
            }
            long exact = number.longValue();
            // A double rounds Long.MAX_VALUE up to 2^63, which converts back to Long.MAX_VALUE: not exact either.
            if (exact == Long.MAX_VALUE || (long) (double) exact != exact) {
                throw inexact(where, value);
            }
            return exact >= Integer.MIN_VALUE && exact <= Integer.MAX_VALUE ? (Object) (int) exact : (Object) exact;
        }
        if (value instanceof Double || value instanceof Float || value instanceof BigDecimal) {
            double number = ((Number) value).doubleValue();
            if (!Double.isFinite(number)) {
                throw new UnsupportedValueException("results value at " + where + " is " + value
                        + ", which JSON cannot hold: return null or a String instead");
            }
            return number;
        }
        if (value instanceof Date) {
            Map<String, Object> date = new LinkedHashMap<>();
            date.put(DATE_KEY, ((Date) value).getTime());
            return date;
        }
        if (value instanceof Map || value instanceof Collection || value.getClass().isArray()) {
            if (!path.add(value)) {
                throw new UnsupportedValueException("results value at " + where + " contains itself");
            }
            try {
                return container(value, where, path, depth);
            } finally {
                path.remove(value);
            }
        }
        throw new UnsupportedValueException("results value at " + where + " is a " + className(value)
                + ", which has no JSON form: return strings, numbers, booleans, java.util.Date, lists and maps");
    }

    private static Object container(Object value, String where, Set<Object> path, int depth)
            throws UnsupportedValueException {
        if (value instanceof Map) {
            Map<String, Object> json = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                if (!(entry.getKey() instanceof String)) {
                    throw new UnsupportedValueException("results value at " + where + " has a key " + entry.getKey()
                            + " of class " + className(entry.getKey()) + ": map keys must be strings");
                }
                String key = (String) entry.getKey();
                json.put(key, toJsonValue(entry.getValue(), where + "." + key, path, depth + 1));
            }
            return json;
        }
        if (value instanceof byte[]) {
            throw new UnsupportedValueException("results value at " + where
                    + " is a byte[], which has no agreed JSON form: return a String (Base64, for example)");
        }
        List<Object> json = new ArrayList<>();
        if (value instanceof Collection) {
            int i = 0;
            for (Object item : (Collection<?>) value) {
                json.add(toJsonValue(item, where + "[" + i++ + "]", path, depth + 1));
            }
        } else {
            int length = Array.getLength(value);
            for (int i = 0; i < length; i++) {
                json.add(toJsonValue(Array.get(value, i), where + "[" + i + "]", path, depth + 1));
            }
        }
        return json;
    }

    private static UnsupportedValueException inexact(String where, Object value) {
        return new UnsupportedValueException("results value at " + where + " is " + value
                + ", beyond the integers a JSON number keeps exactly (a double's 53 bits): return it as a String");
    }

    private static String className(Object value) {
        return value == null ? "null" : value.getClass().getName();
    }
}
