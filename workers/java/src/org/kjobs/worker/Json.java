package org.kjobs.worker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as the worker protocol carries it (RFC 8259), read into plain Java values and written from them.
 *
 * <p>Reading gives {@code Map<String, Object>} (a {@link LinkedHashMap}, keys in document order), {@code List<Object>}
 * (an {@link ArrayList}), {@code String}, {@code Boolean}, {@code null}, and numbers as issue 35 asks: a number
 * written without fraction or exponent is an {@code Integer} when it fits in 32 bits, else a {@code Long} when it
 * fits in 64, else a {@code Double}; any other number is a {@code Double}.
 *
 * <p>Writing takes the same kinds of values ({@code Map} with {@code String} keys, {@code List}, {@code String},
 * {@code Boolean}, {@code Integer}, {@code Long}, finite {@code Double}, {@code null}); anything else is a programming
 * error of the caller ({@link IllegalArgumentException}): {@link JavaValues} turns a command's results into these
 * first, with errors meant for the user.
 */
final class Json {

    /** Deeper documents are refused: the reader recurses, and no job data needs this much. */
    static final int MAX_DEPTH = 500;

    private Json() {
    }

    /** Malformed JSON, with the position where reading stopped. */
    static final class ParseException extends Exception {
        private static final long serialVersionUID = 1L;

        ParseException(String message, int position) {
            super(message + " at position " + position);
        }
    }

    /** Reads one JSON document (whitespace around it allowed, nothing else). */
    static Object parse(String text) throws ParseException {
        Reader reader = new Reader(text);
        reader.skipWhitespace();
        Object value = reader.value(0);
        reader.skipWhitespace();
        if (reader.position < text.length()) {
            throw new ParseException("unexpected text after the JSON value", reader.position);
        }
        return value;
    }

    /** Reads a JSON document that must be an object. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> parseObject(String text) throws ParseException {
        Object value = parse(text);
        if (!(value instanceof Map)) {
            throw new ParseException("expected a JSON object", 0);
        }
        return (Map<String, Object>) value;
    }

    /** Writes a value of the kinds listed in the class comment. */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out, 0);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("JSON value nested more than " + MAX_DEPTH + " levels deep");
        }
        if (value == null) {
            out.append("null");
        } else if (value instanceof String) {
            writeString((String) value, out);
        } else if (value instanceof Boolean) {
            out.append(value.toString());
        } else if (value instanceof Integer || value instanceof Long) {
            out.append(value.toString());
        } else if (value instanceof Double) {
            double number = (Double) value;
            if (Double.isNaN(number) || Double.isInfinite(number)) {
                throw new IllegalArgumentException("JSON has no " + number);
            }
            out.append(Double.toString(number));
        } else if (value instanceof Map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                if (!(entry.getKey() instanceof String)) {
                    throw new IllegalArgumentException("JSON object keys are strings, not " + entry.getKey());
                }
                if (!first) {
                    out.append(',');
                }
                first = false;
                writeString((String) entry.getKey(), out);
                out.append(':');
                write(entry.getValue(), out, depth + 1);
            }
            out.append('}');
        } else if (value instanceof List) {
            out.append('[');
            boolean first = true;
            for (Object item : (List<?>) value) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                write(item, out, depth + 1);
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    private static void writeString(String text, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                default:
                    boolean lone = Character.isSurrogate(c) && !pairedSurrogate(text, i);
                    if (c < 0x20 || lone) {
                        // A lone surrogate has no UTF-8 form: escaped, it survives as the same UTF-16 unit.
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                        if (Character.isHighSurrogate(c)) {
                            out.append(text.charAt(++i));
                        }
                    }
            }
        }
        out.append('"');
    }

    private static boolean pairedSurrogate(String text, int i) {
        char c = text.charAt(i);
        return Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
    }

    private static final class Reader {
        private final String text;
        private int position;

        Reader(String text) {
            this.text = text;
        }

        void skipWhitespace() {
            while (position < text.length()) {
                char c = text.charAt(position);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                position++;
            }
        }

        Object value(int depth) throws ParseException {
            if (depth > MAX_DEPTH) {
                throw new ParseException("JSON nested more than " + MAX_DEPTH + " levels deep", position);
            }
            if (position >= text.length()) {
                throw new ParseException("unexpected end of JSON", position);
            }
            char c = text.charAt(position);
            switch (c) {
                case '{':
                    return object(depth);
                case '[':
                    return array(depth);
                case '"':
                    return string();
                case 't':
                    literal("true");
                    return Boolean.TRUE;
                case 'f':
                    literal("false");
                    return Boolean.FALSE;
                case 'n':
                    literal("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw new ParseException("unexpected character '" + c + "'", position);
            }
        }

        private Map<String, Object> object(int depth) throws ParseException {
            Map<String, Object> map = new LinkedHashMap<>();
            position++;
            skipWhitespace();
            if (peek() == '}') {
                position++;
                return map;
            }
            for (;;) {
                skipWhitespace();
                if (peek() != '"') {
                    throw new ParseException("expected a string key", position);
                }
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                map.put(key, value(depth + 1));
                skipWhitespace();
                char c = peek();
                position++;
                if (c == '}') {
                    return map;
                }
                if (c != ',') {
                    throw new ParseException("expected ',' or '}'", position - 1);
                }
            }
        }

        private List<Object> array(int depth) throws ParseException {
            List<Object> list = new ArrayList<>();
            position++;
            skipWhitespace();
            if (peek() == ']') {
                position++;
                return list;
            }
            for (;;) {
                skipWhitespace();
                list.add(value(depth + 1));
                skipWhitespace();
                char c = peek();
                position++;
                if (c == ']') {
                    return list;
                }
                if (c != ',') {
                    throw new ParseException("expected ',' or ']'", position - 1);
                }
            }
        }

        private String string() throws ParseException {
            position++; // the opening quote
            StringBuilder out = new StringBuilder();
            for (;;) {
                if (position >= text.length()) {
                    throw new ParseException("unterminated string", position);
                }
                char c = text.charAt(position++);
                if (c == '"') {
                    return out.toString();
                }
                if (c < 0x20) {
                    throw new ParseException("control character in a string", position - 1);
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (position >= text.length()) {
                    throw new ParseException("unterminated string", position);
                }
                char escaped = text.charAt(position++);
                switch (escaped) {
                    case '"':
                    case '\\':
                    case '/':
                        out.append(escaped);
                        break;
                    case 'b':
                        out.append('\b');
                        break;
                    case 'f':
                        out.append('\f');
                        break;
                    case 'n':
                        out.append('\n');
                        break;
                    case 'r':
                        out.append('\r');
                        break;
                    case 't':
                        out.append('\t');
                        break;
                    case 'u':
                        if (position + 4 > text.length()) {
                            throw new ParseException("short \\u escape", position);
                        }
                        try {
                            out.append((char) Integer.parseInt(text.substring(position, position + 4), 16));
                        } catch (NumberFormatException e) {
                            throw new ParseException("bad \\u escape", position);
                        }
                        position += 4;
                        break;
                    default:
                        throw new ParseException("bad escape '\\" + escaped + "'", position - 1);
                }
            }
        }

        private Object number() throws ParseException {
            int start = position;
            if (peek() == '-') {
                position++;
            }
            if (peek() == '0') {
                position++;
            } else if (isDigit(peek())) {
                digits();
            } else {
                throw new ParseException("bad number", start);
            }
            boolean integral = true;
            if (peek() == '.') {
                integral = false;
                position++;
                if (!isDigit(peek())) {
                    throw new ParseException("bad number", start);
                }
                digits();
            }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                position++;
                if (peek() == '+' || peek() == '-') {
                    position++;
                }
                if (!isDigit(peek())) {
                    throw new ParseException("bad number", start);
                }
                digits();
            }
            String literal = text.substring(start, position);
            if (integral) {
                try {
                    long value = Long.parseLong(literal);
                    if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
                        return Integer.valueOf((int) value);
                    }
                    return Long.valueOf(value);
                } catch (NumberFormatException beyond64Bits) {
                    // falls through to a Double, as JSON readers of other languages see it
                }
            }
            return Double.valueOf(literal);
        }

        private void digits() {
            while (isDigit(peek())) {
                position++;
            }
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private char peek() {
            return position < text.length() ? text.charAt(position) : '\0';
        }

        private void expect(char c) throws ParseException {
            if (peek() != c) {
                throw new ParseException("expected '" + c + "'", position);
            }
            position++;
        }

        private void literal(String word) throws ParseException {
            if (!text.startsWith(word, position)) {
                throw new ParseException("unexpected text", position);
            }
            position += word.length();
        }
    }
}
