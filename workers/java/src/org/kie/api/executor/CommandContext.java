package org.kie.api.executor;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** The data a command runs with: the job's request data, keyed by name. */
public class CommandContext implements Serializable {

    private static final long serialVersionUID = -1440017934399413860L;

    private Map<String, Object> data;

    /** An empty context. */
    public CommandContext() {
        this.data = new HashMap<String, Object>();
    }

    /**
     * A context over the given map (not copied).
     *
     * @param data the values
     */
    public CommandContext(Map<String, Object> data) {
        this.data = data;
    }

    /**
     * Replaces the whole map.
     *
     * @param data the new values
     */
    public void setData(Map<String, Object> data) {
        this.data = data;
    }

    /**
     * The map itself.
     *
     * @return the values, by name
     */
    public Map<String, Object> getData() {
        return data;
    }

    /**
     * One value.
     *
     * @param key its name
     * @return the value, or {@code null}
     */
    public Object getData(String key) {
        return data.get(key);
    }

    /**
     * Sets one value.
     *
     * @param key its name
     * @param value the value
     */
    public void setData(String key, Object value) {
        data.put(key, value);
    }

    /**
     * The names of the values.
     *
     * @return the map's key set
     */
    public Set<String> keySet() {
        return data.keySet();
    }

    @Override
    public String toString() {
        return "CommandContext{data=" + data + "}";
    }
}
